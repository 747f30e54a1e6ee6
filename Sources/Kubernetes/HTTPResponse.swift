/// Where response bytes come from: the TLS connection, or a buffer in tests.
protocol ByteStream {
    /// The next bytes, or an empty array at end of stream.
    func read() throws(KubernetesError) -> [UInt8]
}

/// An HTTP/1.1 response: status, headers (lower-cased names, repeated ones joined with ", ") and body.
public struct HTTPResponse: Equatable, Sendable {
    public let status: Int
    public let headers: [String: String]
    public let body: [UInt8]

    /// Reads one response, within `limits` whatever the peer sends (see `HTTPResponseParser`).
    static func read(from connection: some ByteStream, limits: HTTPLimits = .standard) throws(KubernetesError) -> HTTPResponse {
        var parser = HTTPResponseParser(limits: limits)
        while true {
            let bytes = try connection.read()
            if bytes.isEmpty { return try parser.finish() }
            if let response = try parser.consume(bytes) { return response }
        }
    }

    /// `Retry-After` in its delay-seconds form, saturated at a day (the caller clamps it to its own
    /// budget); nil when absent or an HTTP date, which API servers do not send.
    public var retryAfterSeconds: Int? {
        headers["retry-after"].flatMap { DecimalDigits.saturating(Array($0.utf8), maximum: 86_400) }
    }
}
