/// Why a pod gets no redirect rules. Every skip is a success for the runtime: the pod runs unmeshed.
public enum SkipReason: Equatable, Sendable, CustomStringConvertible {
    case notKubernetesPod
    case ownAgentPod
    case excludedNamespace(String)
    case legacyInitContainer
    case envoyDisabled
    case noProxyContainer
    case proxyNotSidecar(String)
    case injectionDisabled(String)
    case notInjected
    case interceptionModeNone

    public var description: String {
        switch self {
        case .notKubernetesPod: "not a Kubernetes pod (no K8S_POD_NAME/K8S_POD_NAMESPACE in CNI_ARGS)"
        case .ownAgentPod: "the istio-cni node agent's own pod"
        case .excludedNamespace(let ns): "namespace \(ns) is in exclude_namespaces"
        case .legacyInitContainer: "pod has an istio-init container, which programs its own rules"
        case .envoyDisabled: "istio-proxy has DISABLE_ENVOY=true"
        case .noProxyContainer: "pod has no istio-proxy container"
        case .proxyNotSidecar(let type): "istio-proxy runs as \"\(type)\", not as a sidecar"
        case .injectionDisabled(let source): "\(source) disables injection"
        case .notInjected: "pod has no sidecar.istio.io/status annotation (not injected)"
        case .interceptionModeNone: "sidecar.istio.io/interceptionMode is NONE"
        }
    }
}

/// The outcome of looking at a pod: leave it alone, or intercept with this policy.
public enum InterceptionDecision: Equatable, Sendable {
    case skip(SkipReason)
    case intercept(InterceptionPolicy)
}
