@testable import NodeAgent
import Testing

@Suite struct ConfigurationTests {
    @Test func defaultsAreIstios() throws {
        let configuration = try AgentConfiguration(environment: [:])
        #expect(configuration.mountedCNINetDir == "/host/etc/cni/net.d")
        #expect(configuration.chained && configuration.cniConfName == nil)
        #expect(configuration.runDirectory == "/var/run/istio-cni" && configuration.kubeconfigMode == 0o600)
        #expect(configuration.monitoringPort == 15014 && configuration.readinessPort == 8000)
        #expect(configuration.cniBinDirs == ["/host/opt/cni/bin"] && configuration.cniBinSourceDir == "/opt/cni/bin")
        #expect(configuration.serviceAccountDir == "/var/run/secrets/kubernetes.io/serviceaccount")
        #expect(configuration.updateCNIBinaries && configuration.nativeNftables)
    }

    @Test func environmentAndFlagsWithFlagsWinning() throws {
        let environment = [
            "MOUNTED_CNI_NET_DIR": "/etc/cni/multus/net.d/", "CHAINED_CNI_PLUGIN": "false", "CNI_CONF_NAME": "istio-cni.conf",
            "KUBECONFIG_MODE": "0640", "EXCLUDE_NAMESPACES": " kube-system, openshift-operators ,,", "MONITORING_PORT": "-1",
            "KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443", "SKIP_CNI_BINARIES": "istio-cni",
            "UPDATE_CNI_BINARIES": "False", "CNI_BIN_DIR": "/var/lib/cni/bin,/opt/cni/bin", "NODE_NAME": "worker-1.example",
        ]
        let configuration = try AgentConfiguration(flags: [.monitoringPort: "9100", .cniConfName: "other.conf"], environment: environment)
        #expect(configuration.mountedCNINetDir == "/etc/cni/multus/net.d")
        #expect(!configuration.chained && configuration.cniConfName == "other.conf")
        #expect(configuration.kubeconfigMode == 0o640)
        #expect(configuration.excludeNamespaces == ["kube-system", "openshift-operators"])
        #expect(configuration.monitoringPort == 9100, "the flag wins over MONITORING_PORT")
        #expect(configuration.kubernetesServiceHost == "fd00::1" && configuration.kubernetesServicePort == 6443)
        #expect(configuration.skipCNIBinaries == ["istio-cni"] && !configuration.updateCNIBinaries)
        #expect(configuration.cniBinDirs == ["/var/lib/cni/bin", "/opt/cni/bin"])
        #expect(configuration.nodeName == "worker-1.example")
        #expect(try AgentConfiguration(environment: ["MONITORING_PORT": "-1"]).monitoringPort == 0, "≤ 0 disables, as in Istio")
    }

    @Test(arguments: [
        ("CHAINED_CNI_PLUGIN", "yes", "CHAINED_CNI_PLUGIN (--chained-cni-plugin)=\"yes\" is not a boolean"),
        ("KUBECONFIG_MODE", "0999", "KUBECONFIG_MODE (--kubeconfig-mode)=\"0999\" is not an octal file mode"),
        ("MONITORING_PORT", "70000", "MONITORING_PORT (--monitoring-port)=\"70000\" is not a port number"),
        ("KUBERNETES_SERVICE_PORT", "0", "KUBERNETES_SERVICE_PORT (--kubernetes-service-port)=\"0\""),
        ("MOUNTED_CNI_NET_DIR", "relative/net.d", "is not an absolute path"),
        ("CNI_CONF_NAME", "../escape.conf", "CNI_CONF_NAME (--cni-conf-name)=\"../escape.conf\" is not a file name"),
        ("EXCLUDE_NAMESPACES", "kube-system,Bad_NS", "EXCLUDE_NAMESPACES (--exclude-namespaces)=\"Bad_NS\""),
        ("KUBERNETES_SERVICE_HOST", "host;rm -rf", "is not a host name or IP address"),
        ("LOG_LEVEL", "chatty", "LOG_LEVEL (--log-level)=\"chatty\" is not a log level"),
        ("CNI_BIN_DIR", ",", "names no directory"),
    ])
    func badValuesStopStartUpNamingTheVariable(name: String, value: String, fragment: String) {
        #expect {
            try AgentConfiguration(environment: [name: value])
        } throws: { error in
            "\(error)".contains(fragment)
        }
    }

    @Test func everySettingHasAFlagNamedAfterIt() {
        #expect(AgentSetting.mountedCNINetDir.flagName == "mounted-cni-net-dir")
        #expect(Set(AgentSetting.all.map(\.flagName)).count == AgentSetting.all.count)
        #expect(AgentSetting.all.allSatisfy { $0.environmentName == $0.flagName.uppercased().replacingOccurrences(of: "-", with: "_") })
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
