/// One HTTP/1.1 request read from a plugin connection: enough of the protocol for the plugin's two
/// requests (a GET, a POST with Content-Length), nothing more.
struct LocalRequest: Equatable {
    static let maximumBytes = 1024 * 1024

    let method: String
    let path: String
    let query: [String: String]
    let body: [UInt8]

    static let maximumHeadBytes = 64 * 1024
    static let maximumTargetBytes = 8 * 1024

    /// Parses `bytes` once they hold a whole request; nil while more must be read; throws on nonsense
    /// (anything the plugin would not send: no chunked bodies, no header without a name, no length
    /// that is not plain digits or that disagrees with another).
    static func parse(_ bytes: [UInt8]) throws(LocalRequestError) -> LocalRequest? {
        guard let headEnd = find([13, 10, 13, 10], in: bytes.prefix(maximumHeadBytes + 4)) else {
            if bytes.count > maximumHeadBytes { throw LocalRequestError("request head too large") }
            return nil
        }
        var lines = bytes[..<headEnd].split(separator: 10, omittingEmptySubsequences: false).map { $0.last == 13 ? $0.dropLast() : $0 }
        let requestLine = lines.removeFirst().split(separator: 32, omittingEmptySubsequences: false)
        guard requestLine.count == 3, (1...16).contains(requestLine[0].count), requestLine[0].allSatisfy({ (65...90).contains($0) }),
              requestLine[1].first == 47, requestLine[1].count <= maximumTargetBytes, requestLine[1].allSatisfy({ $0 > 32 && $0 < 127 }),
              ["HTTP/1.0", "HTTP/1.1"].contains(String(decoding: requestLine[2], as: UTF8.self)) else {
            throw LocalRequestError("not an HTTP/1.x request line")
        }
        var length: Int?
        for line in lines {
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex, !line[line.startIndex..<colon].contains(where: { $0 <= 32 }) else {
                throw LocalRequestError("malformed header line")
            }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
            let value = line[(colon + 1)...].drop { $0 == 32 || $0 == 9 }.reversed().drop { $0 == 32 || $0 == 9 }.reversed()
            switch name {
            case "content-length":
                guard let parsed = contentLength(Array(value)), length == nil || length == parsed else { throw LocalRequestError("invalid Content-Length") }
                length = parsed
            case "transfer-encoding":
                throw LocalRequestError("Transfer-Encoding is not accepted (send Content-Length)")
            default:
                break
            }
        }
        let bodyStart = headEnd + 4
        let bodyLength = length ?? 0
        guard bytes.count >= bodyStart + bodyLength else { return nil }
        let (path, query) = AgentRequest.split(String(decoding: requestLine[1], as: UTF8.self))
        return LocalRequest(method: String(decoding: requestLine[0], as: UTF8.self), path: path, query: query,
                            body: Array(bytes[bodyStart..<(bodyStart + bodyLength)]))
    }

    /// Plain decimal digits up to `maximumBytes`, in checked arithmetic.
    private static func contentLength(_ digits: [UInt8]) -> Int? {
        guard !digits.isEmpty, digits.count <= 8, digits.allSatisfy({ (48...57).contains($0) }) else { return nil }
        let value = digits.reduce(0) { $0 * 10 + Int($1 - 48) }
        return value <= maximumBytes ? value : nil
    }

    static func response(_ answer: AgentAnswer) -> [UInt8] {
        let reason = answer.status == 200 ? "OK" : answer.status == 204 ? "No Content" : "Status"
        let head = "HTTP/1.1 \(answer.status) \(reason)\r\nContent-Type: \(answer.contentType)\r\nContent-Length: \(answer.body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + answer.body
    }

    private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in haystack.startIndex...(haystack.endIndex - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }
}

struct LocalRequestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
