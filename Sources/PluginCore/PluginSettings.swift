import CNI
import Glibc
import IPTables
import JSON

/// istio-cni's own keys in the network configuration (reference §1.2), validated.
public struct PluginSettings: Sendable {
    public static let defaultRunDirectory = "/var/run/istio-cni"
    public static let kubeconfigFileName = "istio-cni-kubeconfig"
    public static let tlsSessionFileName = "istio-cni-tls-session"
    public static let defaultPodLookupTimeoutSeconds = 30.0

    public let runDirectory: String
    /// The legacy `kubernetes.kubeconfig` path (Istio before 1.23), if the config names one.
    public let legacyKubeconfigPath: String?
    /// `<run dir>/istio-cni-kubeconfig` when it exists, as Istio ≥ 1.23 uses it; a legacy path only when
    /// it does not (a config rewritten by an old installer may still name a path nothing writes any more).
    public var kubeconfigPath: String {
        let current = runDirectory + "/" + Self.kubeconfigFileName
        guard let legacyKubeconfigPath, access(current, F_OK) != 0 else { return current }
        return legacyKubeconfigPath
    }
    /// Where the TLS session to the API server is kept for the next ADD (root-only run dir).
    public var tlsSessionPath: String { runDirectory + "/" + Self.tlsSessionFileName }
    public let excludeNamespaces: [String]
    /// The node agent's namespace (`pod_namespace`), for recognising its own pods.
    public let agentNamespace: String?
    /// How the rules are written: `backend` (nftables|iptables), else `native_nftables: false` means
    /// iptables; nftables when neither is set. For iptables, `force_iptables_binary` (else the plugin
    /// process's `FORCE_IPTABLES_BINARY`) pins the variant.
    public let backend: RuleBackend
    /// Total time a pod lookup may take, retries included.
    public let podLookupTimeoutMilliseconds: Int64

    public init(_ config: NetworkConfig, processEnvironment: [String: String] = [:]) throws(CNIError) {
        runDirectory = try config.string("cni_agent_run_dir").flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultRunDirectory
        let legacy = try config.object("kubernetes")
        let legacyKubeconfig = legacy?["kubeconfig"]
        if let legacyKubeconfig, legacyKubeconfig.stringValue == nil, !legacyKubeconfig.isNull {
            throw CNIError(.invalidNetworkConfig, "network configuration \"kubernetes.kubeconfig\" must be a string")
        }
        legacyKubeconfigPath = legacyKubeconfig?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        if let namespaces = try config.stringList("exclude_namespaces") {
            excludeNamespaces = namespaces
        } else if let legacyList = legacy?["exclude_namespaces"] {
            guard let array = legacyList.arrayValue, array.allSatisfy({ $0.stringValue != nil }) else {
                throw CNIError(.invalidNetworkConfig, "network configuration \"kubernetes.exclude_namespaces\" must be an array of strings")
            }
            excludeNamespaces = array.compactMap(\.stringValue)
        } else {
            excludeNamespaces = []
        }
        agentNamespace = try config.string("pod_namespace").flatMap { $0.isEmpty ? nil : $0 }
        let iptables: Bool
        if let backend = try config.string("backend") {
            guard backend == "nftables" || backend == "iptables" else {
                throw CNIError(.invalidNetworkConfig, "network configuration \"backend\" \"\(backend)\" must be \"nftables\" or \"iptables\"")
            }
            iptables = backend == "iptables"
        } else {
            iptables = try config.bool("native_nftables") == false
        }
        if iptables {
            let configured = try config.string("force_iptables_binary")
            let forcedName = configured ?? processEnvironment["FORCE_IPTABLES_BINARY"]
            var forced: IPTablesVariant?
            if let forcedName, !forcedName.isEmpty {
                guard let variant = IPTablesVariant(forcedName: forcedName) else {
                    let source = configured != nil ? "network configuration \"force_iptables_binary\"" : "FORCE_IPTABLES_BINARY"
                    throw CNIError(.invalidNetworkConfig, "\(source) \"\(forcedName)\" must be \"legacy\" or \"nft\"")
                }
                forced = variant
            }
            backend = .iptables(forced: forced)
        } else {
            backend = .nftables
        }
        let timeout = try config.number("pod_lookup_timeout_seconds") ?? Self.defaultPodLookupTimeoutSeconds
        guard timeout > 0, timeout <= 300 else {
            throw CNIError(.invalidNetworkConfig, "network configuration \"pod_lookup_timeout_seconds\" \(timeout) must be between 0 and 300")
        }
        podLookupTimeoutMilliseconds = Int64(timeout * 1000)
    }
}
