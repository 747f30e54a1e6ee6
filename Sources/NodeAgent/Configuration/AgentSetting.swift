/// One knob of the agent: Istio's environment variable name, the flag that overrides it, and help.
public struct AgentSetting: Sendable, Hashable {
    public let environmentName: String
    public let help: String

    /// `--mounted-cni-net-dir` for `MOUNTED_CNI_NET_DIR`.
    public var flagName: String { environmentName.lowercased().replacingUnderscores() }

    public static let mountedCNINetDir = AgentSetting("MOUNTED_CNI_NET_DIR", "the node's CNI config dir as mounted in the container")
    public static let cniConfName = AgentSetting("CNI_CONF_NAME", "the primary CNI config file to chain into (default: the first valid one)")
    public static let chainedCNIPlugin = AgentSetting("CHAINED_CNI_PLUGIN", "chain into the primary config (false: standalone istio-cni.conf for Multus)")
    public static let cniAgentRunDir = AgentSetting("CNI_AGENT_RUN_DIR", "run dir shared with the plugin: kubeconfig, agent socket")
    public static let kubeconfigMode = AgentSetting("KUBECONFIG_MODE", "octal file mode of the plugin's kubeconfig")
    public static let kubeCAFile = AgentSetting("KUBE_CA_FILE", "CA bundle for the plugin's kubeconfig (default: the service account's ca.crt)")
    public static let skipTLSVerify = AgentSetting("SKIP_TLS_VERIFY", "write insecure-skip-tls-verify into the plugin's kubeconfig")
    public static let monitoringPort = AgentSetting("MONITORING_PORT", "Prometheus /metrics port (0 disables)")
    public static let readinessPort = AgentSetting("READINESS_PORT", "/healthz and /readyz port (0 disables)")
    public static let excludeNamespaces = AgentSetting("EXCLUDE_NAMESPACES", "comma-separated namespaces whose pods get no rules")
    public static let podNamespace = AgentSetting("POD_NAMESPACE", "the agent's own namespace")
    public static let podName = AgentSetting("POD_NAME", "the agent's own pod (to find its DaemonSet at shutdown)")
    public static let nodeName = AgentSetting("NODE_NAME", "the node whose pods the agent caches for the plugin")
    public static let nativeNftables = AgentSetting("NATIVE_NFTABLES", "program nftables (true) or iptables (false) in pods")
    public static let forceIptablesBinary = AgentSetting("FORCE_IPTABLES_BINARY", "iptables backend: always use the legacy or nft variant")
    public static let kubernetesServiceHost = AgentSetting("KUBERNETES_SERVICE_HOST", "API server address (set by Kubernetes in every pod)")
    public static let kubernetesServicePort = AgentSetting("KUBERNETES_SERVICE_PORT", "API server port (set by Kubernetes in every pod)")
    public static let skipCNIBinaries = AgentSetting("SKIP_CNI_BINARIES", "comma-separated binaries not to install")
    public static let updateCNIBinaries = AgentSetting("UPDATE_CNI_BINARIES", "replace binaries that differ (false: keep existing ones)")
    public static let cniBinDir = AgentSetting("CNI_BIN_DIR", "comma-separated CNI bin dirs to install the plugin into")
    public static let cniBinSourceDir = AgentSetting("CNI_BIN_SOURCE_DIR", "where the image keeps the plugin")
    public static let serviceAccountDir = AgentSetting("SERVICE_ACCOUNT_DIR", "the mounted service-account token and CA")
    public static let pluginLogLevel = AgentSetting("PLUGIN_LOG_LEVEL", "plugin_log_level written into the plugin's config")
    public static let logLevel = AgentSetting("LOG_LEVEL", "the agent's own log level: debug, info, warning, error")

    public static let all: [AgentSetting] = [
        .mountedCNINetDir, .cniConfName, .chainedCNIPlugin, .cniAgentRunDir, .kubeconfigMode, .kubeCAFile, .skipTLSVerify,
        .monitoringPort, .readinessPort, .excludeNamespaces, .podNamespace, .podName, .nodeName, .nativeNftables, .forceIptablesBinary,
        .kubernetesServiceHost, .kubernetesServicePort, .skipCNIBinaries, .updateCNIBinaries, .cniBinDir, .cniBinSourceDir,
        .serviceAccountDir, .pluginLogLevel, .logLevel,
    ] + repairSettings

    init(_ environmentName: String, _ help: String) {
        self.environmentName = environmentName
        self.help = help
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String {
        String(map { $0 == "_" ? "-" : $0 })
    }
}
