import JSON

/// One way of capturing a pod's traffic, for tests that must hold for all of them: the backend the
/// plugin writes with and the interception mode the pod asks for.
public struct Capture: Sendable, CustomStringConvertible {
    public enum Backend: String, Sendable, CaseIterable {
        case nftables
        case iptablesLegacy = "iptables-legacy"
        case iptablesNft = "iptables-nft"
    }

    public let backend: Backend
    public let transparent: Bool

    public init(_ backend: Backend, transparent: Bool = false) {
        self.backend = backend
        self.transparent = transparent
    }

    /// Every backend, each in REDIRECT and in TPROXY mode.
    public static let all: [Capture] = Backend.allCases.flatMap { [Capture($0), Capture($0, transparent: true)] }
    /// Every backend in REDIRECT mode.
    public static let redirect: [Capture] = Backend.allCases.map { Capture($0) }

    public var description: String { "\(backend.rawValue) \(transparent ? "TPROXY" : "REDIRECT")" }

    /// The plugin configuration keys that select the backend.
    public var configuration: [(String, JSONValue)] {
        switch backend {
        case .nftables: []
        case .iptablesLegacy: [("backend", .string("iptables")), ("force_iptables_binary", .string("legacy"))]
        case .iptablesNft: [("backend", .string("iptables")), ("force_iptables_binary", .string("nft"))]
        }
    }

    /// The pod annotations that select the mode.
    public var annotations: [String: String] {
        transparent ? ["sidecar.istio.io/interceptionMode": "TPROXY"] : [:]
    }

    /// The inbound proxy's listener: a TPROXY proxy listens transparently (and reports its local
    /// address, which TPROXY leaves as the original destination).
    public func listenInboundProxy(in namespace: TestNamespace) throws -> BackgroundProcess {
        try namespace.listen(port: 15006, label: "inbound-proxy", transparent: transparent)
    }

    /// The namespace's rules as the backend's own tool lists them.
    public func listing(_ namespace: TestNamespace, ipv6: Bool = false) throws -> String {
        switch backend {
        case .nftables: return try namespace.nftListing()
        case .iptablesLegacy, .iptablesNft:
            let tool = (ipv6 ? "ip6tables-" : "iptables-") + (backend == .iptablesLegacy ? "legacy" : "nft") + "-save"
            return try namespace.run([tool]).stdout
        }
    }

    /// Whether the namespace holds no Istio rules in any backend's tables (iptables-nft may leave its
    /// emptied `ip nat` table behind; that holds nothing).
    public static func holdsNoRules(_ namespace: TestNamespace) throws -> Bool {
        let nft = try namespace.run(["nft", "list", "tables"]).stdout
        let saved = try ["iptables-legacy-save", "ip6tables-legacy-save", "iptables-nft-save", "ip6tables-nft-save"]
            .map { try namespace.run([$0]).stdout }.joined()
        return !nft.contains("istio-proxy") && !saved.contains("ISTIO_")
    }
}
