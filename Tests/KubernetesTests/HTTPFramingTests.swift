@testable import Kubernetes
import Testing

/// Bytes handed out in fixed chunks, standing in for a connection.
final class ChunkedBytes: ByteStream {
    private var chunks: [[UInt8]]

    init(_ text: String, chunkSize: Int) {
        let bytes = Array(text.utf8)
        chunks = stride(from: 0, to: bytes.count, by: chunkSize).map { Array(bytes[$0..<min($0 + chunkSize, bytes.count)]) }
    }

    func read() throws(KubernetesError) -> [UInt8] {
        chunks.isEmpty ? [] : chunks.removeFirst()
    }
}

@Suite struct HTTPFramingTests {
    @Test(arguments: [1, 3, 7, 4096])
    func framingsAgreeWhateverTheChunking(chunkSize: Int) throws {
        let lengthFramed = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"bc\"}\nGARBAGE"
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n7;ext=1\r\n:\"bc\"}\n\r\n0\r\n\r\n"
        let untilClose = "HTTP/1.0 200 OK\r\n\r\n{\"a\":\"bc\"}\n"
        for text in [lengthFramed, chunked, untilClose] {
            let response = try HTTPResponse.read(from: ChunkedBytes(text, chunkSize: chunkSize))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "{\"a\":\"bc\"}\n")
        }
    }

    @Test func reportsTruncationAndNonsense() {
        for (text, fragment) in [
            ("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort", "after 5 of 50 body bytes"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size"),
            ("SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP response"),
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length \"-1\" is not a length"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "conflicting Content-Length headers \"1\" and \"2\""),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding \"gzip\""),
            ("HTTP/1.1 200 OK\r\n folded: value\r\n\r\n", "malformed response header line \" folded: value\""),
            ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed response header line \"no colon here\""),
            ("HTTP/1.1 20 OK\r\n\r\n", "not an HTTP response: \"HTTP/1.1 20 OK\""),
            ("HTTP/1.1 999 Odd\r\n\r\n", "not an HTTP response"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n", "chunk data is longer than its size line says (\"de\" follows it, not CRLF)"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "connection closed inside a chunked body (after 3 bytes)"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\u{1B}[2J\r\n", "invalid chunk size \"\\x1b[2J\""),
            ("HTTP/1.1 200 OK\r\n", "before the response headers arrived"),
        ] {
            #expect {
                try HTTPResponse.read(from: ChunkedBytes(text, chunkSize: 64))
            } throws: { error in
                (error as? KubernetesError)?.message.contains(fragment) == true
            }
        }
    }

    @Test func headerNamesAreCaseInsensitive() throws {
        let response = try HTTPResponse.read(from: ChunkedBytes("HTTP/1.1 429 Too Many\r\nRETRY-AFTER: 3\r\ncontent-length: 0\r\n\r\n", chunkSize: 5))
        #expect(response.status == 429)
        #expect(response.headers["retry-after"] == "3")
    }
}

/// A peer that never stops sending: a fixed prefix, then filler forever. Counts what it handed out.
final class EndlessBytes: ByteStream {
    private var prefix: [UInt8]?
    private let filler: [UInt8]
    private(set) var served = 0

    init(_ prefix: String, filler: String) {
        self.prefix = prefix.isEmpty ? nil : Array(prefix.utf8)
        self.filler = Array(String(repeating: filler, count: max(1, 16 * 1024 / max(1, filler.utf8.count))).utf8)
    }

    func read() throws(KubernetesError) -> [UInt8] {
        let bytes = prefix ?? filler
        prefix = nil
        served += bytes.count
        return bytes
    }
}

@Suite struct HTTPBoundsTests {
    static let limits = HTTPLimits.standard

    /// Whatever a peer streams, the reader stops within a limit plus one read, with an error naming it
    /// (`limit` is in bytes on the wire: 16-byte chunks carry 6 bytes of framing each).
    @Test(arguments: [
        ("", "x", "the response headers are longer than 65536 bytes", HTTPLimits.standard.headerBytes),
        ("HTTP/1.1 200 OK\r\n\r\n", "x", "response body is larger than 2097152 bytes", HTTPLimits.standard.bodyBytes),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "0", "a chunk-size line is longer than 1024 bytes", 1024),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "10\r\nyyyyyyyyyyyyyyyy\r\n",
         "a chunk of 16 bytes makes the response body larger than 2097152 bytes", HTTPLimits.standard.bodyBytes / 16 * 22),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", "T: x\r\n", "response trailers are larger than 65536 bytes",
         HTTPLimits.standard.headerBytes),
    ])
    func endlessPeersAreCutOffAtTheLimit(prefix: String, filler: String, message: String, limit: Int) {
        let peer = EndlessBytes(prefix, filler: filler)
        #expect {
            try HTTPResponse.read(from: peer)
        } throws: { error in
            (error as? KubernetesError)?.message == message
        }
        #expect(peer.served <= prefix.utf8.count + limit + 2 * 16 * 1024, "read \(peer.served) bytes")
    }

    @Test func statedLengthsAreRefusedBeforeTheirBytesAreRead() {
        for (head, message) in [
            ("Transfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\n", "chunk size \"7fffffffffffffff\" is larger than the 2097152 bytes a response may have"),
            ("Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffffffff\r\n", "chunk size \"ffffffffffffffffffffffff\" is larger than the 2097152 bytes a response may have"),
            ("Transfer-Encoding: chunked\r\n\r\n2625A00; ext=1\r\n", "chunk size \"2625A00\" is larger than the 2097152 bytes a response may have"),
            ("Content-Length: 99999999999999999999999\r\n\r\n", "Content-Length \"99999999999999999999999\" is larger than the 2097152 bytes a response may have"),
            ("Content-Length: 2097153\r\n\r\n", "Content-Length \"2097153\" is larger than the 2097152 bytes a response may have"),
        ] {
            let peer = EndlessBytes("HTTP/1.1 200 OK\r\n" + head, filler: "z")
            #expect {
                try HTTPResponse.read(from: peer)
            } throws: { error in
                (error as? KubernetesError)?.message == message
            }
            #expect(peer.served == ("HTTP/1.1 200 OK\r\n" + head).utf8.count, "nothing past the stated length was read")
        }
    }

    @Test func aBodyAtTheLimitIsAccepted() throws {
        let body = String(repeating: "b", count: HTTPLimits.standard.bodyBytes)
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n" + body.prefix(0x100000) + "\r\n100000\r\n"
            + body.prefix(0x100000) + "\r\n0\r\nX-Trailer: 1\r\n\r\n"
        let sized = "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        for text in [chunked, sized] {
            #expect(try HTTPResponse.read(from: ChunkedBytes(text, chunkSize: 16 * 1024)).body.count == HTTPLimits.standard.bodyBytes)
        }
    }

    @Test func bodilessStatusesAndTrailingBytes() throws {
        let noContent = try HTTPResponse.read(from: ChunkedBytes("HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n", chunkSize: 7))
        #expect(noContent.status == 204 && noContent.body.isEmpty)
        let extra = try HTTPResponse.read(from: ChunkedBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 500 later", chunkSize: 3))
        #expect(String(decoding: extra.body, as: UTF8.self) == "ok")
        let repeated = try HTTPResponse.read(from: ChunkedBytes("HTTP/1.1 200 OK\r\nWarning: a\r\nwarning: b\r\nContent-Length: 0\r\n\r\n", chunkSize: 4))
        #expect(repeated.headers["warning"] == "a, b")
    }

    @Test(arguments: [("3", 3), ("0", 0), ("86400", 86_400), ("9223372036854775807", 86_400), ("99999999999999999999999", 86_400)])
    func retryAfterIsSaturated(text: String, seconds: Int) throws {
        let response = try HTTPResponse.read(from: ChunkedBytes("HTTP/1.1 429 Too Many\r\nRetry-After: \(text)\r\nContent-Length: 0\r\n\r\n", chunkSize: 9))
        #expect(response.retryAfterSeconds == seconds)
    }

    @Test(arguments: ["-1", "+3", "3.5", "Fri, 04 Dec 2026 21:00:00 GMT", ""])
    func retryAfterThatIsNotDelaySecondsIsIgnored(text: String) throws {
        let response = try HTTPResponse.read(from: ChunkedBytes("HTTP/1.1 429 Too Many\r\nRetry-After: \(text)\r\nContent-Length: 0\r\n\r\n", chunkSize: 9))
        #expect(response.retryAfterSeconds == nil)
    }
}
