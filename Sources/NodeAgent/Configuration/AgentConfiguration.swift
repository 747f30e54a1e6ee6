import Interception
import Kubernetes

/// The agent's validated settings. Each comes from a flag, else from its Istio environment variable,
/// else from Istio's default; a bad value stops start-up with an error naming the variable.
public struct AgentConfiguration: Sendable, Equatable {
    public var mountedCNINetDir = "/host/etc/cni/net.d"
    public var cniConfName: String?
    public var chained = true
    public var runDirectory = "/var/run/istio-cni"
    public var kubeconfigMode: UInt32 = 0o600
    public var kubeCAFile: String?
    public var skipTLSVerify = false
    public var monitoringPort = 15014
    public var readinessPort = 8000
    public var excludeNamespaces: [String] = []
    public var podNamespace: String?
    public var podName: String?
    public var nodeName: String?
    public var nativeNftables = true
    /// "legacy" or "nft" (Istio's FORCE_IPTABLES_BINARY), for the iptables backend.
    public var forceIptablesBinary: String?
    public var kubernetesServiceHost: String?
    public var kubernetesServicePort: Int?
    public var skipCNIBinaries: [String] = []
    public var updateCNIBinaries = true
    public var cniBinDirs = ["/host/opt/cni/bin"]
    public var cniBinSourceDir = "/opt/cni/bin"
    public var serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"
    public var pluginLogLevel = "info"
    public var logLevel = "info"
    public var repair = RepairConfiguration()

    /// Istio's default name for the standalone (Multus) config.
    public static let standaloneConfigName = "istio-cni.conf"

    public init() {}

    /// `flags` win over `environment`.
    public init(flags: [AgentSetting: String] = [:], environment: [String: String]) throws(AgentConfigurationError) {
        let source = SettingSource(flags: flags, environment: environment)
        if let v = source[.mountedCNINetDir] { mountedCNINetDir = try Self.absolutePath(v, .mountedCNINetDir) }
        if let v = source[.cniConfName], !v.isEmpty { cniConfName = try Self.fileName(v, .cniConfName) }
        if let v = source[.chainedCNIPlugin] { chained = try Self.bool(v, .chainedCNIPlugin) }
        if let v = source[.cniAgentRunDir] { runDirectory = try Self.absolutePath(v, .cniAgentRunDir) }
        if let v = source[.kubeconfigMode] { kubeconfigMode = try Self.mode(v, .kubeconfigMode) }
        if let v = source[.kubeCAFile], !v.isEmpty { kubeCAFile = try Self.absolutePath(v, .kubeCAFile) }
        if let v = source[.skipTLSVerify] { skipTLSVerify = try Self.bool(v, .skipTLSVerify) }
        if let v = source[.monitoringPort] { monitoringPort = try Self.port(v, .monitoringPort, allowDisabled: true) }
        if let v = source[.readinessPort] { readinessPort = try Self.port(v, .readinessPort, allowDisabled: true) }
        if let v = source[.excludeNamespaces] { excludeNamespaces = try Self.names(v, .excludeNamespaces) }
        if let v = source[.podNamespace], !v.isEmpty { podNamespace = try Self.name(v, .podNamespace) }
        if let v = source[.podName], !v.isEmpty { podName = try Self.name(v, .podName, subdomain: true) }
        if let v = source[.nodeName], !v.isEmpty { nodeName = try Self.name(v, .nodeName, subdomain: true) }
        if let v = source[.nativeNftables] { nativeNftables = try Self.bool(v, .nativeNftables) }
        if let v = source[.forceIptablesBinary], !v.isEmpty {
            guard v == "legacy" || v == "nft" else { throw AgentConfigurationError(.forceIptablesBinary, v, "must be \"legacy\" or \"nft\"") }
            forceIptablesBinary = v
        }
        if let v = source[.kubernetesServiceHost], !v.isEmpty { kubernetesServiceHost = try Self.host(v, .kubernetesServiceHost) }
        if let v = source[.kubernetesServicePort], !v.isEmpty { kubernetesServicePort = try Self.port(v, .kubernetesServicePort, allowDisabled: false) }
        if let v = source[.skipCNIBinaries] { skipCNIBinaries = try Self.list(v).map { name throws(AgentConfigurationError) in try Self.fileName(name, .skipCNIBinaries) } }
        if let v = source[.updateCNIBinaries] { updateCNIBinaries = try Self.bool(v, .updateCNIBinaries) }
        if let v = source[.cniBinDir] {
            cniBinDirs = try Self.list(v).map { path throws(AgentConfigurationError) in try Self.absolutePath(path, .cniBinDir) }
            if cniBinDirs.isEmpty { throw AgentConfigurationError(.cniBinDir, v, "names no directory") }
        }
        if let v = source[.cniBinSourceDir] { cniBinSourceDir = try Self.absolutePath(v, .cniBinSourceDir) }
        if let v = source[.serviceAccountDir] { serviceAccountDir = try Self.absolutePath(v, .serviceAccountDir) }
        if let v = source[.pluginLogLevel] { pluginLogLevel = try Self.level(v, .pluginLogLevel) }
        if let v = source[.logLevel] { logLevel = try Self.level(v, .logLevel) }
        repair = try RepairConfiguration(source)
    }

    /// The node whose pods the agent watches (one watch feeds the pod cache and the repair loop).
    public var watchedNodeName: String? { nodeName ?? repair.nodeName }

    /// What `install-cni run` needs beyond valid values: Istio's repair controller silently watches
    /// every unscheduled pod in the cluster when REPAIR_NODE_NAME is empty; we refuse to start.
    public func checkForRun() throws(AgentConfigurationError) {
        guard repair.enabled else { return }
        guard let repairNode = repair.nodeName else {
            throw AgentConfigurationError(.repairNodeName, "", "is required when the repair loop is enabled (REPAIR_ENABLED=true): set it to the node's name (fieldRef spec.nodeName) or set REPAIR_ENABLED=false")
        }
        if let nodeName, nodeName != repairNode {
            throw AgentConfigurationError(.repairNodeName, repairNode, "differs from NODE_NAME=\"\(nodeName)\": the agent watches one node")
        }
    }

    /// The plugin's config file in standalone mode.
    public var standaloneConfigPath: String {
        mountedCNINetDir + "/" + (cniConfName ?? Self.standaloneConfigName)
    }

    public var kubeconfigPath: String { runDirectory + "/istio-cni-kubeconfig" }

    // MARK: Validation, one rule per kind of value

    static func bool(_ value: String, _ setting: AgentSetting) throws(AgentConfigurationError) -> Bool {
        guard let parsed = parseGoBool(value) else { throw AgentConfigurationError(setting, value, "is not a boolean (true or false)") }
        return parsed
    }

    static func mode(_ value: String, _ setting: AgentSetting) throws(AgentConfigurationError) -> UInt32 {
        guard !value.isEmpty, value.count <= 4, let mode = UInt32(value, radix: 8), mode <= 0o777 else {
            throw AgentConfigurationError(setting, value, "is not an octal file mode such as 0600")
        }
        return mode
    }

    static func port(_ value: String, _ setting: AgentSetting, allowDisabled: Bool) throws(AgentConfigurationError) -> Int {
        guard let port = Int(value), port <= 65535, port >= (allowDisabled ? Int.min : 1) else {
            throw AgentConfigurationError(setting, value, allowDisabled ? "is not a port number (0 or less disables it)" : "is not a port number between 1 and 65535")
        }
        return max(port, 0)
    }

    static func absolutePath(_ value: String, _ setting: AgentSetting) throws(AgentConfigurationError) -> String {
        guard value.hasPrefix("/"), !value.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw AgentConfigurationError(setting, value, "is not an absolute path")
        }
        return value.count > 1 && value.hasSuffix("/") ? String(value.dropLast()) : value
    }

    static func fileName(_ value: String, _ setting: AgentSetting) throws(AgentConfigurationError) -> String {
        guard !value.isEmpty, value != ".", value != "..", !value.contains("/"),
              !value.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw AgentConfigurationError(setting, value, "is not a file name")
        }
        return value
    }

    static func name(_ value: String, _ setting: AgentSetting, subdomain: Bool = false) throws(AgentConfigurationError) -> String {
        guard subdomain ? KubernetesNames.isSubdomain(value) : KubernetesNames.isLabel(value) else {
            throw AgentConfigurationError(setting, value, "is not a valid Kubernetes name")
        }
        return value
    }

    static func names(_ value: String, _ setting: AgentSetting) throws(AgentConfigurationError) -> [String] {
        try list(value).map { item throws(AgentConfigurationError) in try name(item, setting) }
    }

    static func host(_ value: String, _ setting: AgentSetting) throws(AgentConfigurationError) -> String {
        let allowed = value.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic && scalar.isASCII || ("0"..."9").contains(scalar) || ".-:".unicodeScalars.contains(scalar)
        }
        guard !value.isEmpty, allowed else { throw AgentConfigurationError(setting, value, "is not a host name or IP address") }
        return value
    }

    static func level(_ value: String, _ setting: AgentSetting) throws(AgentConfigurationError) -> String {
        let known = ["debug", "info", "warn", "warning", "error", "none"]
        guard known.contains(value.lowercased()) else {
            throw AgentConfigurationError(setting, value, "is not a log level (\(known.joined(separator: ", ")))")
        }
        return value.lowercased() == "warn" ? "warning" : value.lowercased()
    }

    /// Comma-separated, items trimmed, empty items dropped (as Istio splits its env lists).
    static func list(_ value: String) -> [String] {
        value.split(separator: ",").map { String($0).trimmingCharacters(in: " \t") }.filter { !$0.isEmpty }
    }
}

/// Where a setting's text comes from: its flag, else its environment variable.
struct SettingSource {
    let flags: [AgentSetting: String]
    let environment: [String: String]

    subscript(_ setting: AgentSetting) -> String? {
        flags[setting] ?? environment[setting.environmentName]
    }
}

extension String {
    /// Drops leading and trailing scalars found in `set` (scalars, so "\r\n" counts as two).
    func trimmingCharacters(in set: String) -> String {
        let unwanted = Set(set.unicodeScalars)
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, unwanted.contains(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, unwanted.contains(last) { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
