/// Bounds a response from the network must keep. Every length a server states is checked against
/// them before a byte of what it announces is buffered, so no answer can make the plugin grow.
public struct HTTPLimits: Sendable {
    public var headerBytes: Int
    /// etcd refuses objects over 1.5 MiB (its default request limit), so no pod is larger than this.
    public var bodyBytes: Int
    /// A chunk-size line, with extensions, and each trailer line.
    public var lineBytes: Int

    public init(headerBytes: Int = 64 * 1024, bodyBytes: Int = 2 * 1024 * 1024, lineBytes: Int = 1024) {
        self.headerBytes = headerBytes
        self.bodyBytes = bodyBytes
        self.lineBytes = lineBytes
    }

    public static let standard = HTTPLimits()
}

/// An HTTP/1.1 response framer fed with the bytes as they arrive: status line and headers, then a
/// body framed by Content-Length, chunked encoding, or the end of the stream. It holds at most one
/// read beyond the limits, whatever the server sends.
public struct HTTPResponseParser {
    private enum Phase {
        case head
        case sized(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers(bytes: Int)
        case untilClose
        case complete
    }

    public let limits: HTTPLimits
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where the search for the current terminator resumes (bytes before it hold none).
    private var scanned = 0
    private var phase = Phase.head
    private var status = 0
    private var headers: [String: String] = [:]
    private var contentLength = 0
    private var body: [UInt8] = []

    public init(limits: HTTPLimits = .standard) {
        self.limits = limits
    }

    /// Takes the next bytes of the connection; the response once it is complete (later bytes are
    /// ignored: every request says `Connection: close`).
    public mutating func consume(_ bytes: [UInt8]) throws(KubernetesError) -> HTTPResponse? {
        if case .complete = phase { return response }
        if start > 0 {
            buffer.removeSubrange(0..<start)
            scanned -= start
            start = 0
        }
        buffer += bytes
        while true {
            switch phase {
            case .head:
                guard let end = try find(Self.headTerminator, limit: limits.headerBytes, what: "the response headers") else { return nil }
                try parseHead(buffer[start..<end])
                advance(to: end + Self.headTerminator.count)
                phase = try bodyPhase()
            case .sized(let remaining):
                let left = takeBody(remaining)
                guard left == 0 else { phase = .sized(remaining: left); return nil }
                phase = .complete
            case .chunkSize:
                guard let end = try find(Self.lineTerminator, limit: limits.lineBytes, what: "a chunk-size line") else { return nil }
                let size = try chunkSize(buffer[start..<end])
                advance(to: end + 2)
                if size == 0 {
                    phase = .trailers(bytes: 0)
                } else {
                    guard size <= limits.bodyBytes - body.count else {
                        throw KubernetesError(.transport, "a chunk of \(size) bytes makes the response body larger than \(limits.bodyBytes) bytes")
                    }
                    phase = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let left = takeBody(remaining)
                guard left == 0 else { phase = .chunkData(remaining: left); return nil }
                phase = .chunkEnd
            case .chunkEnd:
                guard buffer.count - start >= 2 else { return nil }
                guard buffer[start] == 13, buffer[start + 1] == 10 else {
                    throw KubernetesError(.transport, "chunk data is longer than its size line says (\(PeerText.quoted(buffer[start..<(start + 2)])) follows it, not CRLF)")
                }
                advance(to: start + 2)
                phase = .chunkSize
            case .trailers(let seen):
                guard let end = try find(Self.lineTerminator, limit: limits.lineBytes, what: "a trailer line") else { return nil }
                let length = end - start
                guard seen + length <= limits.headerBytes else { throw KubernetesError(.transport, "response trailers are larger than \(limits.headerBytes) bytes") }
                advance(to: end + 2)
                phase = length == 0 ? .complete : .trailers(bytes: seen + length + 2)
            case .untilClose:
                let available = buffer.count - start
                guard available <= limits.bodyBytes - body.count else {
                    throw KubernetesError(.transport, "response body is larger than \(limits.bodyBytes) bytes")
                }
                _ = takeBody(available)
                return nil
            case .complete:
                return response
            }
        }
    }

    /// The connection ended: the response, when its framing lets it end here.
    public mutating func finish() throws(KubernetesError) -> HTTPResponse {
        switch phase {
        case .complete, .untilClose:
            phase = .complete
            return response
        case .head:
            throw KubernetesError(.transport, "connection closed before the response headers arrived")
        case .sized(let remaining):
            throw KubernetesError(.transport, "connection closed after \(contentLength - remaining) of \(contentLength) body bytes")
        case .chunkSize, .chunkData, .chunkEnd, .trailers:
            throw KubernetesError(.transport, "connection closed inside a chunked body (after \(body.count) bytes)")
        }
    }

    /// Bytes held for a line or head not yet complete (what the limits bound).
    public var bufferedBytes: Int { buffer.count - start }

    private var response: HTTPResponse { HTTPResponse(status: status, headers: headers, body: body) }

    private static let headTerminator: [UInt8] = [13, 10, 13, 10]
    private static let lineTerminator: [UInt8] = [13, 10]

    /// The index of `terminator` after `start`, or nil when more bytes are needed; throws once the
    /// bytes before it exceed `limit`.
    private mutating func find(_ terminator: [UInt8], limit: Int, what: String) throws(KubernetesError) -> Int? {
        var index = max(start, scanned - (terminator.count - 1))
        let last = buffer.count - terminator.count
        while index <= last {
            if buffer[index] == terminator[0], buffer[index..<(index + terminator.count)].elementsEqual(terminator) {
                guard index - start <= limit else { break }
                return index
            }
            index += 1
        }
        scanned = buffer.count
        guard buffer.count - start <= limit + terminator.count else {
            throw KubernetesError(.transport, "\(what) \(what.hasSuffix("s") ? "are" : "is") longer than \(limit) bytes")
        }
        return nil
    }

    private mutating func advance(to index: Int) {
        start = index
        scanned = index
    }

    /// Moves up to `wanted` buffered bytes into the body; returns how many are still wanted.
    private mutating func takeBody(_ wanted: Int) -> Int {
        let taken = min(wanted, buffer.count - start)
        body += buffer[start..<(start + taken)]
        advance(to: start + taken)
        return wanted - taken
    }

    private mutating func parseHead(_ head: ArraySlice<UInt8>) throws(KubernetesError) {
        var lines = head.split(separator: 10, omittingEmptySubsequences: false).map { $0.last == 13 ? $0.dropLast() : $0 }
        status = try Self.statusCode(lines.removeFirst())
        for line in lines {
            guard let first = line.first, first != 32, first != 9 else {
                throw KubernetesError(.transport, "malformed response header line \(PeerText.quoted(line))")
            }
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex,
                  line[line.startIndex..<colon].allSatisfy(Self.isTokenByte) else {
                throw KubernetesError(.transport, "malformed response header line \(PeerText.quoted(line))")
            }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: Self.trimmed(line[(colon + 1)...]), as: UTF8.self)
            if let earlier = headers[name] {
                if name == "content-length", earlier != value {
                    throw KubernetesError(.transport, "conflicting Content-Length headers \(PeerText.quoted(Array(earlier.utf8))) and \(PeerText.quoted(Array(value.utf8)))")
                }
                headers[name] = name == "content-length" ? value : earlier + ", " + value
            } else {
                headers[name] = value
            }
        }
    }

    /// "HTTP/1.x NNN reason": the three-digit status.
    private static func statusCode(_ line: ArraySlice<UInt8>) throws(KubernetesError) -> Int {
        let bytes = Array(line)
        let prefix = Array("HTTP/1.".utf8)
        guard bytes.count >= 12, bytes.starts(with: prefix), (48...57).contains(bytes[7]), bytes[8] == 32,
              bytes[9...11].allSatisfy({ (48...57).contains($0) }), bytes.count == 12 || bytes[12] == 32 else {
            throw KubernetesError(.transport, "not an HTTP response: \(PeerText.quoted(line))")
        }
        let code = bytes[9...11].reduce(0) { $0 * 10 + Int($1 - 48) }
        guard (100...599).contains(code) else { throw KubernetesError(.transport, "not an HTTP response: \(PeerText.quoted(line))") }
        return code
    }

    private mutating func bodyPhase() throws(KubernetesError) -> Phase {
        // RFC 9110: these carry no body whatever their headers say.
        if (100..<200).contains(status) || status == 204 || status == 304 { return .complete }
        if let coding = headers["transfer-encoding"] {
            guard coding.lowercased() == "chunked" else {
                throw KubernetesError(.transport, "unsupported Transfer-Encoding \(PeerText.quoted(Array(coding.utf8)))")
            }
            return .chunkSize
        }
        guard let text = headers["content-length"] else { return .untilClose }
        guard let length = DecimalDigits.value(Array(text.utf8), maximum: limits.bodyBytes) else {
            let reason = DecimalDigits.isDigits(Array(text.utf8)) ? "is larger than the \(limits.bodyBytes) bytes a response may have" : "is not a length"
            throw KubernetesError(.transport, "Content-Length \(PeerText.quoted(Array(text.utf8))) \(reason)")
        }
        contentLength = length
        return length == 0 ? .complete : .sized(remaining: length)
    }

    /// The size of a chunk-size line ("1a2b;name=value"), in checked arithmetic.
    private func chunkSize(_ line: ArraySlice<UInt8>) throws(KubernetesError) -> Int {
        let digits = Self.trimmed(line.prefix { $0 != 59 })
        guard !digits.isEmpty else { throw KubernetesError(.transport, "invalid chunk size \(PeerText.quoted(line))") }
        var size = 0
        for byte in digits {
            guard let digit = Self.hexValue(byte) else { throw KubernetesError(.transport, "invalid chunk size \(PeerText.quoted(line))") }
            let (shifted, overflow) = size.multipliedReportingOverflow(by: 16)
            guard !overflow, shifted + digit <= limits.bodyBytes else {
                throw KubernetesError(.transport, "chunk size \(PeerText.quoted(digits)) is larger than the \(limits.bodyBytes) bytes a response may have")
            }
            size = shifted + digit
        }
        return size
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 48...57: Int(byte - 48)
        case 65...70: Int(byte - 55)
        case 97...102: Int(byte - 87)
        default: nil
        }
    }

    /// RFC 9110 token characters, the only ones a header name may hold.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 48...57, 65...90, 97...122: true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace = { (byte: UInt8) in byte == 32 || byte == 9 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return [] }
        return bytes[first...last]
    }
}
