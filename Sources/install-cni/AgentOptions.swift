import ArgumentParser
import NodeAgent

/// Every agent setting as a flag; each flag overrides the Istio environment variable of the same name
/// (`--mounted-cni-net-dir` ⇔ `MOUNTED_CNI_NET_DIR`).
struct AgentOptions: ParsableArguments {
    @Option(name: .customLong("mounted-cni-net-dir")) var mountedCNINetDir: String?
    @Option(name: .customLong("cni-conf-name")) var cniConfName: String?
    @Option(name: .customLong("chained-cni-plugin")) var chainedCNIPlugin: String?
    @Option(name: .customLong("cni-agent-run-dir")) var cniAgentRunDir: String?
    @Option(name: .customLong("kubeconfig-mode")) var kubeconfigMode: String?
    @Option(name: .customLong("kube-ca-file")) var kubeCAFile: String?
    @Option(name: .customLong("skip-tls-verify")) var skipTLSVerify: String?
    @Option(name: .customLong("monitoring-port")) var monitoringPort: String?
    @Option(name: .customLong("readiness-port")) var readinessPort: String?
    @Option(name: .customLong("exclude-namespaces")) var excludeNamespaces: String?
    @Option(name: .customLong("pod-namespace")) var podNamespace: String?
    @Option(name: .customLong("pod-name")) var podName: String?
    @Option(name: .customLong("node-name")) var nodeName: String?
    @Option(name: .customLong("native-nftables")) var nativeNftables: String?
    @Option(name: .customLong("kubernetes-service-host")) var kubernetesServiceHost: String?
    @Option(name: .customLong("kubernetes-service-port")) var kubernetesServicePort: String?
    @Option(name: .customLong("skip-cni-binaries")) var skipCNIBinaries: String?
    @Option(name: .customLong("update-cni-binaries")) var updateCNIBinaries: String?
    @Option(name: .customLong("cni-bin-dir")) var cniBinDir: String?
    @Option(name: .customLong("cni-bin-source-dir")) var cniBinSourceDir: String?
    @Option(name: .customLong("service-account-dir")) var serviceAccountDir: String?
    @Option(name: .customLong("plugin-log-level")) var pluginLogLevel: String?
    @Option(name: .customLong("log-level")) var logLevel: String?

    /// The flags given, keyed by the setting they override.
    var flags: [AgentSetting: String] {
        let pairs: [(AgentSetting, String?)] = [
            (.mountedCNINetDir, mountedCNINetDir), (.cniConfName, cniConfName), (.chainedCNIPlugin, chainedCNIPlugin),
            (.cniAgentRunDir, cniAgentRunDir), (.kubeconfigMode, kubeconfigMode), (.kubeCAFile, kubeCAFile),
            (.skipTLSVerify, skipTLSVerify), (.monitoringPort, monitoringPort), (.readinessPort, readinessPort),
            (.excludeNamespaces, excludeNamespaces), (.podNamespace, podNamespace), (.podName, podName), (.nodeName, nodeName),
            (.nativeNftables, nativeNftables), (.kubernetesServiceHost, kubernetesServiceHost),
            (.kubernetesServicePort, kubernetesServicePort), (.skipCNIBinaries, skipCNIBinaries),
            (.updateCNIBinaries, updateCNIBinaries), (.cniBinDir, cniBinDir), (.cniBinSourceDir, cniBinSourceDir),
            (.serviceAccountDir, serviceAccountDir), (.pluginLogLevel, pluginLogLevel), (.logLevel, logLevel),
        ]
        var flags: [AgentSetting: String] = [:]
        for (setting, value) in pairs { if let value { flags[setting] = value } }
        return flags
    }

    /// The validated configuration; a bad value is a usage error naming the variable.
    func resolve(environment: [String: String]) throws -> AgentConfiguration {
        do {
            return try AgentConfiguration(flags: flags, environment: environment)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
