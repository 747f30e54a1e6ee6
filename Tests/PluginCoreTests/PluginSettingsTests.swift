import CNI
import JSON
import Kubernetes
@testable import PluginCore
import Interception
import Testing

@Suite struct PluginSettingsTests {
    func settings(_ extra: String, environment: [String: String] = [:]) throws(CNIError) -> PluginSettings {
        try PluginSettings(try NetworkConfig.parse(Array(#"{"cniVersion":"1.0.0","name":"n","type":"istio-cni"\#(extra)}"#.utf8)),
                           processEnvironment: environment)
    }

    @Test func defaultsMatchIstio() throws {
        let defaults = try settings("")
        #expect(defaults.runDirectory == "/var/run/istio-cni")
        #expect(defaults.kubeconfigPath == "/var/run/istio-cni/istio-cni-kubeconfig")
        #expect(defaults.tlsSessionPath == "/var/run/istio-cni/istio-cni-tls-session")
        #expect(defaults.excludeNamespaces.isEmpty && defaults.agentNamespace == nil && defaults.backend == .nftables)
        #expect(defaults.podLookupTimeoutMilliseconds == 30_000)
    }

    @Test func currentAndLegacyKeys() throws {
        let current = try settings(#","cni_agent_run_dir":"/run/x","exclude_namespaces":["kube-system"],"pod_namespace":"istio-system","native_nftables":false,"pod_lookup_timeout_seconds":2.5"#)
        #expect(current.kubeconfigPath == "/run/x/istio-cni-kubeconfig")
        #expect(current.excludeNamespaces == ["kube-system"] && current.agentNamespace == "istio-system")
        #expect(current.backend == .iptables(forced: nil))
        #expect(current.podLookupTimeoutMilliseconds == 2500)
        let legacy = try settings(#","kubernetes":{"kubeconfig":"/etc/cni/net.d/ZZZ-istio-cni-kubeconfig","exclude_namespaces":["istio-system"]},"log_level":"debug""#)
        #expect(legacy.kubeconfigPath == "/etc/cni/net.d/ZZZ-istio-cni-kubeconfig")
        #expect(legacy.excludeNamespaces == ["istio-system"])
        #expect(try settings(#","backend":"nftables","native_nftables":false"#).backend == .nftables, "backend wins")
    }

    @Test func iptablesVariantIsForcedByTheConfigOrTheRuntimeEnvironment() throws {
        #expect(try settings(#","backend":"iptables","force_iptables_binary":"legacy""#).backend == .iptables(forced: .legacy))
        #expect(try settings(#","native_nftables":false"#, environment: ["FORCE_IPTABLES_BINARY": "nft"]).backend == .iptables(forced: .nft))
        #expect(try settings(#","native_nftables":false,"force_iptables_binary":"legacy""#, environment: ["FORCE_IPTABLES_BINARY": "nft"]).backend
                == .iptables(forced: .legacy), "the plugin's configuration wins over the runtime's environment")
        #expect(try settings(#","native_nftables":true"#, environment: ["FORCE_IPTABLES_BINARY": "bogus"]).backend == .nftables,
                "the variant only matters to the iptables backend")
        #expect {
            try settings(#","backend":"iptables""#, environment: ["FORCE_IPTABLES_BINARY": "xtables"])
        } throws: { error in
            (error as? CNIError)?.code == .invalidNetworkConfig && (error as? CNIError)?.message == #"FORCE_IPTABLES_BINARY "xtables" must be "legacy" or "nft""#
        }
    }

    @Test(arguments: [
        (#","backend":"ebpf""#, "\"backend\" \"ebpf\""),
        (#","pod_lookup_timeout_seconds":0"#, "pod_lookup_timeout_seconds"),
        (#","pod_lookup_timeout_seconds":1000"#, "pod_lookup_timeout_seconds"),
        (#","kubernetes":{"kubeconfig":5}"#, "kubernetes.kubeconfig"),
        (#","kubernetes":{"exclude_namespaces":"a"}"#, "kubernetes.exclude_namespaces"),
        (#","native_nftables":"yes""#, "native_nftables"),
        (#","backend":"iptables","force_iptables_binary":"new""#, "\"force_iptables_binary\" \"new\" must be \"legacy\" or \"nft\""),
    ])
    func rejectsInvalidValues(extra: String, fragment: String) {
        #expect {
            try settings(extra)
        } throws: { error in
            (error as? CNIError)?.code == .invalidNetworkConfig && (error as? CNIError)?.message.contains(fragment) == true
        }
    }

    @Test func kubernetesNameRules() {
        #expect(KubernetesNames.isSubdomain("web-7d9f.x"))
        #expect(!KubernetesNames.isSubdomain("Web") && !KubernetesNames.isSubdomain("-a") && !KubernetesNames.isSubdomain("a..b"))
        #expect(!KubernetesNames.isSubdomain(String(repeating: "a", count: 254)))
        #expect(KubernetesNames.isLabel("kube-system") && !KubernetesNames.isLabel("a.b") && !KubernetesNames.isLabel(String(repeating: "a", count: 64)))
    }

    @Test func podFactsComeFromTheAPIObject() throws {
        let pod = try Pod(json: try JSONParser.parse("""
        {"metadata":{"name":"p","namespace":"n","labels":{"a":"b"},"annotations":{"sidecar.istio.io/status":"{}"}},
         "spec":{"initContainers":[{"name":"istio-proxy","args":["proxy","sidecar"],"env":[{"name":"ISTIO_META_DNS_CAPTURE","value":"true"},
           {"name":"POD_NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],"securityContext":{"runAsUser":1000,"runAsGroup":2000}}],
         "containers":[{"name":"app"}]}}
        """))
        let facts = PodFacts(pod)
        #expect(facts.labels == ["a": "b"])
        #expect(facts.proxyContainer?.environment == ["ISTIO_META_DNS_CAPTURE": "true"], "valueFrom entries are left out")
        #expect(facts.proxyContainer?.runAsUser == 1000 && facts.proxyContainer?.runAsGroup == 2000)
        #expect(throws: KubernetesError.self) { try Pod(json: try JSONParser.parse(#"{"kind":"Status"}"#)) }
        #expect(throws: KubernetesError.self) { try Pod(json: try JSONParser.parse(#"{"metadata":{"name":"p","namespace":"n","labels":{"a":1}}}"#)) }
    }
}
