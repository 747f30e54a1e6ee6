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
            ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
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
