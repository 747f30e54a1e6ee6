import JSON

/// Minimal API client for the plugin: one GET per connection over TLS with the kubeconfig's bearer token.
public struct KubernetesClient: Sendable {
    public static let userAgent = "istio-cni-swift/0.1"

    public let config: Kubeconfig
    /// Where TLS sessions are kept between processes (nil: no resumption).
    public let sessionCachePath: String?

    public init(config: Kubeconfig, sessionCachePath: String? = nil) {
        self.config = config
        self.sessionCachePath = sessionCachePath
    }

    /// GETs `path` and returns the decoded JSON body of a 2xx answer; anything else throws with the
    /// API's own `Status` message when it sent one.
    public func get(_ path: String, deadline: MonotonicClock.Instant) throws(KubernetesError) -> JSONValue {
        let connection = try TLSConnection(config: config, sessionCachePath: sessionCachePath, deadline: deadline)
        let hostHeader = config.host.contains(":") ? "[\(config.host)]:\(config.port)" : "\(config.host):\(config.port)"
        let request = "GET \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nAuthorization: Bearer \(config.token)\r\n"
            + "Accept: application/json\r\nUser-Agent: \(Self.userAgent)\r\nConnection: close\r\n\r\n"
        try connection.write(Array(request.utf8))
        let response = try HTTPResponse.read(from: connection)
        guard (200..<300).contains(response.status) else {
            throw KubernetesError(.http(status: response.status, retryAfterSeconds: response.retryAfterSeconds),
                                  "API answered \(response.status)\(Self.statusMessage(response.body))")
        }
        do {
            return try JSONParser.parse(response.body)
        } catch {
            throw KubernetesError(.decoding, "API answered \(response.status) with a body that is not JSON (\(error))")
        }
    }

    public static func podPath(namespace: String, name: String) -> String {
        "/api/v1/namespaces/\(namespace)/pods/\(name)"
    }

    /// ": <reason>: <message>" from a `Status` body, or "" when the body is not one.
    private static func statusMessage(_ body: [UInt8]) -> String {
        guard let status = try? JSONParser.parse(body), status["kind"]?.stringValue == "Status" else { return "" }
        let reason = status["reason"]?.stringValue ?? ""
        let message = status["message"]?.stringValue ?? ""
        return [reason, message].filter { !$0.isEmpty }.map { " " + $0 }.joined(separator: ":")
    }
}
