/// Istio's rules for which pods get redirect rules (reference §1.4), in Istio's order.
public enum MeshSelection {
    /// The DaemonSet's pods are named `istio-cni-node-<suffix>`.
    public static let agentPodNamePrefix = "istio-cni-node-"

    /// Checks that need no API call: they let our own agent start even when the API or the kubeconfig
    /// is unusable (after a node reboot), and keep excluded namespaces independent of the API.
    public static func skipBeforeLookup(podName: String?, podNamespace: String?,
                                        excludeNamespaces: [String], agentNamespace: String?) -> SkipReason? {
        guard let podName, let podNamespace else { return .notKubernetesPod }
        if let agentNamespace, podNamespace == agentNamespace, podName.hasPrefix(agentPodNamePrefix) {
            return .ownAgentPod
        }
        if excludeNamespaces.contains(podNamespace) { return .excludedNamespace(podNamespace) }
        return nil
    }

    /// Decides for a fetched pod. Throws when the pod is meant to be intercepted but one of its
    /// annotations (or the node-wide env knobs) is invalid: such a pod must not start half-configured.
    public static func decide(_ pod: PodFacts, processEnvironment: [String: String] = [:]) throws(InterceptionError) -> InterceptionDecision {
        if let reason = skipReason(pod) { return .skip(reason) }
        let mode = pod.annotations[IstioAnnotation.interceptionMode] ?? InterceptionPolicy.Mode.redirect.rawValue
        if mode == "NONE" { return .skip(.interceptionModeNone) }
        return .intercept(try PolicyBuilder.policy(for: pod, processEnvironment: processEnvironment))
    }

    static func skipReason(_ pod: PodFacts) -> SkipReason? {
        if pod.allContainers.contains(where: { $0.name == ContainerFacts.legacyInitContainerName }) {
            return .legacyInitContainer
        }
        let proxy = pod.proxyContainer
        if let disable = proxy?.environment[ProxyEnvironment.disableEnvoy], parseGoBool(disable) == true {
            return .envoyDisabled
        }
        guard let proxy else { return .noProxyContainer }
        if proxy.args.count >= 2, proxy.args[0] == "proxy", proxy.args[1] != "sidecar" {
            return .proxyNotSidecar(proxy.args[1])
        }
        let injectSource: String
        let injectValue: String?
        if let label = pod.labels[IstioAnnotation.inject] {
            injectSource = "label \(IstioAnnotation.inject)=\(label)"
            injectValue = label
        } else {
            injectValue = pod.annotations[IstioAnnotation.inject]
            injectSource = "annotation \(IstioAnnotation.inject)=\(injectValue ?? "")"
        }
        if let injectValue, parseGoBool(injectValue) == false { return .injectionDisabled(injectSource) }
        if pod.annotations[IstioAnnotation.status] == nil { return .notInjected }
        return nil
    }
}
