import Interception
import Testing

@Suite struct MeshSelectionTests {
    static func meshPod(annotations: [String: String] = [:], labels: [String: String] = [:],
                        proxy: ContainerFacts = ContainerFacts(name: "istio-proxy", args: ["proxy", "sidecar"]),
                        extraInit: [ContainerFacts] = []) -> PodFacts {
        PodFacts(name: "web", namespace: "default", labels: labels,
                 annotations: ["sidecar.istio.io/status": "{}"].merging(annotations) { $1 },
                 containers: [ContainerFacts(name: "app"), proxy],
                 initContainers: [ContainerFacts(name: "istio-validation")] + extraInit)
    }

    func reason(_ pod: PodFacts) throws -> SkipReason? {
        if case .skip(let reason) = try MeshSelection.decide(pod) { return reason }
        return nil
    }

    @Test func checksBeforeLookup() {
        #expect(MeshSelection.skipBeforeLookup(podName: nil, podNamespace: "default", excludeNamespaces: [], agentNamespace: nil) == .notKubernetesPod)
        #expect(MeshSelection.skipBeforeLookup(podName: "istio-cni-node-abcde", podNamespace: "istio-system",
                                               excludeNamespaces: [], agentNamespace: "istio-system") == .ownAgentPod)
        #expect(MeshSelection.skipBeforeLookup(podName: "istio-cni-node-abcde", podNamespace: "default",
                                               excludeNamespaces: [], agentNamespace: "istio-system") == nil)
        #expect(MeshSelection.skipBeforeLookup(podName: "coredns", podNamespace: "kube-system",
                                               excludeNamespaces: ["kube-system"], agentNamespace: nil) == .excludedNamespace("kube-system"))
    }

    @Test func sidecarPodIsIntercepted() throws {
        #expect(try reason(Self.meshPod()) == nil)
        #expect(try reason(Self.meshPod(annotations: ["sidecar.istio.io/inject": "true"])) == nil)
    }

    @Test func istioSkipRulesInOrder() throws {
        #expect(try reason(Self.meshPod(extraInit: [ContainerFacts(name: "istio-init")])) == .legacyInitContainer)
        #expect(try reason(Self.meshPod(proxy: ContainerFacts(name: "istio-proxy", environment: ["DISABLE_ENVOY": "true"]))) == .envoyDisabled)
        #expect(try reason(Self.meshPod(proxy: ContainerFacts(name: "istio-proxy", environment: ["DISABLE_ENVOY": "maybe"]))) == nil)
        #expect(try reason(Self.meshPod(proxy: ContainerFacts(name: "sidecar"))) == .noProxyContainer)
        #expect(try reason(Self.meshPod(proxy: ContainerFacts(name: "istio-proxy", args: ["proxy", "router"]))) == .proxyNotSidecar("router"))
        #expect(try reason(Self.meshPod(annotations: ["sidecar.istio.io/inject": "false"])) == .injectionDisabled("annotation sidecar.istio.io/inject=false"))
        #expect(try reason(Self.meshPod(annotations: ["sidecar.istio.io/inject": "true"], labels: ["sidecar.istio.io/inject": "F"]))
                == .injectionDisabled("label sidecar.istio.io/inject=F"))
        #expect(try reason(Self.meshPod(annotations: ["sidecar.istio.io/inject": "false"], labels: ["sidecar.istio.io/inject": "true"])) == nil,
                "the label wins over the annotation")
        #expect(try reason(Self.meshPod(annotations: ["sidecar.istio.io/inject": "nope"])) == nil, "unparsable values are ignored")
        var notInjected = Self.meshPod()
        notInjected.annotations["sidecar.istio.io/status"] = nil
        #expect(try reason(notInjected) == .notInjected)
        #expect(try reason(Self.meshPod(annotations: ["sidecar.istio.io/interceptionMode": "NONE"])) == .interceptionModeNone)
    }

    @Test func nativeSidecarInInitContainersCounts() throws {
        let pod = PodFacts(name: "web", namespace: "default", annotations: ["sidecar.istio.io/status": "{}"],
                           containers: [ContainerFacts(name: "app")],
                           initContainers: [ContainerFacts(name: "istio-proxy", args: ["proxy", "sidecar"])])
        #expect(try reason(pod) == nil)
    }

    @Test func goBoolMatchesStrconv() {
        for text in ["1", "t", "T", "TRUE", "true", "True"] { #expect(parseGoBool(text) == true) }
        for text in ["0", "f", "F", "FALSE", "false", "False"] { #expect(parseGoBool(text) == false) }
        for text in ["yes", "tRUE", "", " true"] { #expect(parseGoBool(text) == nil) }
    }
}
