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
    @Option(name: .customLong("force-iptables-binary")) var forceIptablesBinary: String?
    @Option(name: .customLong("kubernetes-service-host")) var kubernetesServiceHost: String?
    @Option(name: .customLong("kubernetes-service-port")) var kubernetesServicePort: String?
    @Option(name: .customLong("skip-cni-binaries")) var skipCNIBinaries: String?
    @Option(name: .customLong("update-cni-binaries")) var updateCNIBinaries: String?
    @Option(name: .customLong("cni-bin-dir")) var cniBinDir: String?
    @Option(name: .customLong("cni-bin-source-dir")) var cniBinSourceDir: String?
    @Option(name: .customLong("service-account-dir")) var serviceAccountDir: String?
    @Option(name: .customLong("plugin-log-level")) var pluginLogLevel: String?
    @Option(name: .customLong("log-level")) var logLevel: String?
    @Option(name: .customLong("repair-enabled")) var repairEnabled: String?
    @Option(name: .customLong("repair-repair-pods")) var repairRepairPods: String?
    @Option(name: .customLong("repair-delete-pods")) var repairDeletePods: String?
    @Option(name: .customLong("repair-label-pods")) var repairLabelPods: String?
    @Option(name: .customLong("repair-broken-pod-label-key")) var repairBrokenPodLabelKey: String?
    @Option(name: .customLong("repair-broken-pod-label-value")) var repairBrokenPodLabelValue: String?
    @Option(name: .customLong("repair-node-name")) var repairNodeName: String?
    @Option(name: .customLong("repair-sidecar-annotation")) var repairSidecarAnnotation: String?
    @Option(name: .customLong("repair-init-container-name")) var repairInitContainerName: String?
    @Option(name: .customLong("repair-init-container-termination-message")) var repairInitContainerTerminationMessage: String?
    @Option(name: .customLong("repair-init-container-exit-code")) var repairInitContainerExitCode: String?
    @Option(name: .customLong("repair-label-selectors")) var repairLabelSelectors: String?
    @Option(name: .customLong("repair-field-selectors")) var repairFieldSelectors: String?
    @Option(name: .customLong("repair-actions-per-second")) var repairActionsPerSecond: String?
    @Option(name: .customLong("repair-action-burst")) var repairActionBurst: String?
    @Option(name: .customLong("repair-breaker-broken-share")) var repairBreakerBrokenShare: String?
    @Option(name: .customLong("repair-breaker-minimum-broken")) var repairBreakerMinimumBroken: String?
    @Option(name: .customLong("repair-host-proc-dir")) var repairHostProcDir: String?
    @Option(name: .customLong("repair-host-netns-dir")) var repairHostNetnsDir: String?

    /// The flags given, keyed by the setting they override.
    var flags: [AgentSetting: String] {
        let pairs: [(AgentSetting, String?)] = [
            (.mountedCNINetDir, mountedCNINetDir), (.cniConfName, cniConfName), (.chainedCNIPlugin, chainedCNIPlugin),
            (.cniAgentRunDir, cniAgentRunDir), (.kubeconfigMode, kubeconfigMode), (.kubeCAFile, kubeCAFile),
            (.skipTLSVerify, skipTLSVerify), (.monitoringPort, monitoringPort), (.readinessPort, readinessPort),
            (.excludeNamespaces, excludeNamespaces), (.podNamespace, podNamespace), (.podName, podName), (.nodeName, nodeName),
            (.nativeNftables, nativeNftables), (.forceIptablesBinary, forceIptablesBinary), (.kubernetesServiceHost, kubernetesServiceHost),
            (.kubernetesServicePort, kubernetesServicePort), (.skipCNIBinaries, skipCNIBinaries),
            (.updateCNIBinaries, updateCNIBinaries), (.cniBinDir, cniBinDir), (.cniBinSourceDir, cniBinSourceDir),
            (.serviceAccountDir, serviceAccountDir), (.pluginLogLevel, pluginLogLevel), (.logLevel, logLevel),
            (.repairEnabled, repairEnabled), (.repairRepairPods, repairRepairPods), (.repairDeletePods, repairDeletePods),
            (.repairLabelPods, repairLabelPods), (.repairBrokenPodLabelKey, repairBrokenPodLabelKey),
            (.repairBrokenPodLabelValue, repairBrokenPodLabelValue), (.repairNodeName, repairNodeName),
            (.repairSidecarAnnotation, repairSidecarAnnotation), (.repairInitContainerName, repairInitContainerName),
            (.repairInitContainerTerminationMessage, repairInitContainerTerminationMessage),
            (.repairInitContainerExitCode, repairInitContainerExitCode), (.repairLabelSelectors, repairLabelSelectors),
            (.repairFieldSelectors, repairFieldSelectors), (.repairActionsPerSecond, repairActionsPerSecond),
            (.repairActionBurst, repairActionBurst), (.repairBreakerBrokenShare, repairBreakerBrokenShare),
            (.repairBreakerMinimumBroken, repairBreakerMinimumBroken), (.repairHostProcDir, repairHostProcDir),
            (.repairHostNetnsDir, repairHostNetnsDir),
        ]
        var flags: [AgentSetting: String] = [:]
        for (setting, value) in pairs { if let value { flags[setting] = value } }
        return flags
    }

    /// The validated configuration; a bad value is a usage error naming the variable.
    func resolve(environment: [String: String], forRun: Bool = false) throws -> AgentConfiguration {
        do {
            let configuration = try AgentConfiguration(flags: flags, environment: environment)
            if forRun { try configuration.checkForRun() }
            return configuration
        } catch {
            throw ValidationError(error.description)
        }
    }
}
