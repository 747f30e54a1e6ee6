import AsyncHTTPClient
import Foundation
import JSON
import NIOCore
import NIOHTTP1
import NIOSSL

/// A failed API call: the status and the API's own `Status` message when it answered at all.
public struct KubeAPIError: Error, Sendable, CustomStringConvertible {
    public let status: Int?
    public let message: String

    public var isNotFound: Bool { status == 404 }
    public var isGone: Bool { status == 410 }
    public var description: String { message }
}

/// The agent's own Kubernetes client: in-cluster configuration (KUBERNETES_SERVICE_HOST/PORT, the
/// service account's token and CA), over AsyncHTTPClient. The token is read again for every request,
/// so a rotated projected token is picked up without a restart.
public final class KubeAPI: Sendable {
    let baseURL: String
    let tokenPath: String
    private let client: HTTPClient

    public init(configuration: AgentConfiguration) throws(InstallError) {
        baseURL = try KubeconfigWriter(configuration: configuration).serverURL()
        tokenPath = configuration.serviceAccountDir + "/token"
        var tls = TLSConfiguration.makeClientConfiguration()
        if configuration.skipTLSVerify {
            tls.certificateVerification = .none
        } else {
            let caPath = configuration.kubeCAFile ?? configuration.serviceAccountDir + "/ca.crt"
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(try FileSystem.read(caPath)))
            } catch {
                throw InstallError(.kubeconfig, "loading the API server's CA \(caPath): \(error)")
            }
        }
        // A watch is a long read: the server ends it after timeoutSeconds; this catches a dead connection.
        client = HTTPClient(eventLoopGroupProvider: .singleton,
                            configuration: .init(tlsConfiguration: tls, timeout: .init(connect: .seconds(5), read: .seconds(330))))
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    /// GET (or another method without a streamed answer) returning the decoded JSON body.
    public func request(_ method: HTTPMethod = .GET, _ path: String, body: JSONValue? = nil,
                        contentType: String = "application/json", timeout: Int64 = 10) async throws(KubeAPIError) -> JSONValue {
        let response = try await start(method, path, body: body, contentType: contentType, timeout: .seconds(timeout))
        let bytes: ByteBuffer
        do { bytes = try await response.body.collect(upTo: 64 * 1024 * 1024) } catch {
            throw KubeAPIError(status: nil, message: "\(method) \(path): reading the answer: \(error)")
        }
        let body = Array(buffer: bytes)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw KubeAPIError(status: Int(response.status.code), message: "\(method) \(path): \(response.status.code)\(Self.statusMessage(body))")
        }
        do { return try JSONParser.parse(body) } catch {
            throw KubeAPIError(status: Int(response.status.code), message: "\(method) \(path): the answer is not JSON")
        }
    }

    /// Streams a watch: calls `onEvent` with each decoded line until the server ends the response.
    public func watch(_ path: String, timeoutSeconds: Int64, onEvent: (JSONValue) async throws -> Void) async throws {
        let response = try await start(.GET, path, body: nil, contentType: "application/json", timeout: .seconds(timeoutSeconds + 60))
        guard response.status == .ok else {
            let body = (try? await response.body.collect(upTo: 1024 * 1024)).map { Array(buffer: $0) } ?? []
            throw KubeAPIError(status: Int(response.status.code), message: "watch \(path): \(response.status.code)\(Self.statusMessage(body))")
        }
        var pending: [UInt8] = []
        for try await chunk in response.body {
            pending += chunk.readableBytesView
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                guard !line.isEmpty else { continue }
                guard let event = try? JSONParser.parse(line) else {
                    throw KubeAPIError(status: nil, message: "watch \(path): a line that is not JSON")
                }
                try await onEvent(event)
            }
        }
    }

    private func start(_ method: HTTPMethod, _ path: String, body: JSONValue?, contentType: String,
                       timeout: TimeAmount) async throws(KubeAPIError) -> HTTPClientResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        let token: String
        do {
            token = String(decoding: try FileSystem.read(tokenPath), as: UTF8.self).trimmingCharacters(in: " \t\r\n")
        } catch {
            throw KubeAPIError(status: nil, message: "reading the service-account token: \(error)")
        }
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "istio-cni-swift-agent/0.1")
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(string: JSONSerializer.serialize(body)))
        }
        do {
            return try await client.execute(request, timeout: timeout)
        } catch {
            throw KubeAPIError(status: nil, message: "\(method) \(baseURL)\(path): \(error)")
        }
    }

    private static func statusMessage(_ body: [UInt8]) -> String {
        guard let status = try? JSONParser.parse(body), status["kind"]?.stringValue == "Status" else { return "" }
        return [status["reason"]?.stringValue, status["message"]?.stringValue].compactMap { $0 }.filter { !$0.isEmpty }.map { " " + $0 }.joined(separator: ":")
    }
}
