import JSON
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A Kubernetes API server stand-in for tests and the demo: real TLS with its own CA, bearer-token
/// authentication, `Status` error bodies and resourceVersions, served over HTTP/1.1 by SwiftNIO.
public final class KubeEmulator: Sendable {
    public let store: APIObjectStore
    public let identity: EmulatorIdentity
    public let host: String
    public let port: Int
    let services: EmulatorServices
    private let group: MultiThreadedEventLoopGroup
    private let channel: Mutex<Channel?>

    /// Starts serving on `host` at an ephemeral port (or `port`).
    /// `hostnames` and `addresses` are the names the serving certificate is valid for; `tlsVersions` the
    /// TLS versions it accepts.
    public init(keyType: EmulatorIdentity.KeyType = .rsa2048, host: String = "127.0.0.1", port: Int = 0,
                token: String? = nil, threads: Int = 1, tlsVersions: EmulatorTLSVersions = .standard,
                hostnames: [String] = ["localhost", "kubernetes.default.svc"],
                addresses: [[UInt8]] = [[127, 0, 0, 1], [UInt8](repeating: 0, count: 15) + [1]]) throws {
        let store = APIObjectStore()
        let services = EmulatorServices(
            token: token ?? "emulator-" + (0..<4).map { _ in String(UInt32.random(in: 0...UInt32.max), radix: 16) }.joined(),
            router: APIRouter(store: store))
        self.store = store
        self.services = services
        identity = try EmulatorIdentity(keyType: keyType, hostnames: hostnames, addresses: addresses)
        self.host = host
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        channel = Mutex(nil)
        let context = try identity.makeServerContext(versions: tlsVersions)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        let listening: Channel
        do {
            listening = try bootstrap.childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try child.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try child.pipeline.syncOperations.addHandler(APIHTTPHandler(services: services))
                }
            }.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.port = listening.localAddress?.port ?? port
        channel.withLock { $0 = listening }
    }

    deinit {
        stop()
    }

    /// Stops listening and closes every connection.
    public func stop() {
        let listening = channel.withLock { current -> Channel? in
            defer { current = nil }
            return current
        }
        guard let listening else { return }
        try? listening.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// Makes the next `count` requests (nil: every request until `clearFaults`) misbehave.
    public func injectFault(_ fault: APIFault, count: Int? = 1) {
        services.faults.add(fault, count: count)
    }

    public func clearFaults() {
        services.faults.clear()
    }

    public var token: String { services.token }

    /// Replaces the bearer tokens the emulator accepts (the initial `token` included only if listed),
    /// as a token rotation or revocation on a real cluster does.
    public func acceptTokens(_ tokens: Set<String>) {
        services.setTokens(tokens)
    }

    /// Watches being streamed right now.
    public var activeWatchCount: Int { services.activeWatches.count }

    /// Drops every watch connection mid-stream, as a restarting API server or a load balancer does.
    public func cutWatches() {
        for channel in services.activeWatches { channel.close(promise: nil) }
    }

    public var requests: [RecordedRequest] { services.requests }

    public var serverURL: String {
        host.contains(":") ? "https://[\(host)]:\(port)" : "https://\(host):\(port)"
    }

    /// A kubeconfig (JSON, as the node agent writes it) that trusts this emulator's CA.
    public func kubeconfig(token overrideToken: String? = nil, server: String? = nil, caPEM: String? = nil,
                           extraCluster: [(String, JSONValue)] = []) -> String {
        let caData = base64(Array((caPEM ?? identity.caCertificatePEM).utf8))
        let document = JSONValue.object(JSONObject([
            ("apiVersion", .string("v1")), ("kind", .string("Config")),
            ("clusters", .array([.object(JSONObject([("name", .string("local")), ("cluster", .object(JSONObject([
                ("server", .string(server ?? serverURL)), ("certificate-authority-data", .string(caData)),
            ] + extraCluster)))]))])),
            ("users", .array([.object(JSONObject([("name", .string("istio-cni")), ("user", .object(JSONObject([
                ("token", .string(overrideToken ?? token)),
            ])))]))])),
            ("contexts", .array([.object(JSONObject([("name", .string("istio-cni-context")), ("context", .object(JSONObject([
                ("cluster", .string("local")), ("user", .string("istio-cni")),
            ])))]))])),
            ("current-context", .string("istio-cni-context")),
        ]))
        return JSONSerializer.serialize(document, pretty: true) + "\n"
    }

    private func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var output = ""
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << UInt32(16 - 8 * $1.offset) }
            for position in 0..<4 {
                output.append(position <= chunk.count ? alphabet[Int((value >> UInt32(18 - 6 * position)) & 0x3F)] : "=")
            }
            index += 3
        }
        return output
    }
}

/// What every connection handler shares: the tokens, the router, queued faults, the request log and
/// the connections streaming a watch.
final class EmulatorServices: Sendable {
    let token: String
    let router: APIRouter
    let faults = FaultSchedule()
    private let recorded = Mutex<[RecordedRequest]>([])
    private let acceptedTokens: Mutex<Set<String>>
    private let watches = Mutex<[ObjectIdentifier: Channel]>([:])

    init(token: String, router: APIRouter) {
        self.token = token
        self.router = router
        acceptedTokens = Mutex([token])
    }

    func accepts(_ authorization: String?) -> Bool {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        let presented = String(authorization.dropFirst("Bearer ".count))
        return acceptedTokens.withLock { $0.contains(presented) }
    }

    func setTokens(_ tokens: Set<String>) {
        acceptedTokens.withLock { $0 = tokens }
    }

    func watchStarted(_ channel: Channel) {
        watches.withLock { $0[ObjectIdentifier(channel)] = channel }
    }

    func watchEnded(_ channel: Channel) {
        watches.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    var activeWatches: [Channel] { watches.withLock { Array($0.values) } }

    var requests: [RecordedRequest] { recorded.withLock { $0 } }

    func record(_ request: RecordedRequest) {
        recorded.withLock { $0.append(request) }
    }
}
