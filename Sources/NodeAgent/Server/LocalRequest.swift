/// One HTTP/1.1 request read from a plugin connection: enough of the protocol for the plugin's two
/// requests (a GET, a POST with Content-Length), nothing more.
struct LocalRequest: Equatable {
    static let maximumBytes = 1024 * 1024

    let method: String
    let path: String
    let query: [String: String]
    let body: [UInt8]

    /// Parses `bytes` once they hold a whole request; nil while more must be read; throws on nonsense.
    static func parse(_ bytes: [UInt8]) throws(LocalRequestError) -> LocalRequest? {
        guard let headEnd = find([13, 10, 13, 10], in: bytes) else {
            if bytes.count > 64 * 1024 { throw LocalRequestError("request head too large") }
            return nil
        }
        let head = String(decoding: bytes[..<headEnd], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else { throw LocalRequestError("not an HTTP/1.x request line") }
        var length = 0
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].lowercased() == "content-length" {
                guard let value = Int(line[line.index(after: colon)...].trimmingPrefix(" ")), value >= 0, value <= maximumBytes else {
                    throw LocalRequestError("invalid Content-Length")
                }
                length = value
            }
        }
        let bodyStart = headEnd + 4
        guard bytes.count >= bodyStart + length else { return nil }
        let (path, query) = AgentRequest.split(String(requestLine[1]))
        return LocalRequest(method: String(requestLine[0]), path: path, query: query, body: Array(bytes[bodyStart..<(bodyStart + length)]))
    }

    static func response(_ answer: AgentAnswer) -> [UInt8] {
        let reason = answer.status == 200 ? "OK" : answer.status == 204 ? "No Content" : "Status"
        let head = "HTTP/1.1 \(answer.status) \(reason)\r\nContent-Type: \(answer.contentType)\r\nContent-Length: \(answer.body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + answer.body
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return start }
        }
        return nil
    }
}

struct LocalRequestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
