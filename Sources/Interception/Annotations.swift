/// The pod annotation and label keys Istio's sidecar injection writes and istio-cni reads.
public enum IstioAnnotation {
    public static let inject = "sidecar.istio.io/inject"
    public static let status = "sidecar.istio.io/status"
    public static let interceptionMode = "sidecar.istio.io/interceptionMode"
    public static let includeOutboundIPRanges = "traffic.sidecar.istio.io/includeOutboundIPRanges"
    public static let excludeOutboundIPRanges = "traffic.sidecar.istio.io/excludeOutboundIPRanges"
    public static let includeInboundPorts = "traffic.sidecar.istio.io/includeInboundPorts"
    public static let excludeInboundPorts = "traffic.sidecar.istio.io/excludeInboundPorts"
    public static let includeOutboundPorts = "traffic.sidecar.istio.io/includeOutboundPorts"
    public static let excludeOutboundPorts = "traffic.sidecar.istio.io/excludeOutboundPorts"
    public static let excludeInterfaces = "traffic.sidecar.istio.io/excludeInterfaces"
    public static let rerouteVirtualInterfaces = "istio.io/reroute-virtual-interfaces"
    public static let kubevirtInterfaces = "traffic.sidecar.istio.io/kubevirtInterfaces"
}

/// Environment variables of the `istio-proxy` container that change the rules.
public enum ProxyEnvironment {
    public static let disableEnvoy = "DISABLE_ENVOY"
    public static let dnsCapture = "ISTIO_META_DNS_CAPTURE"
    public static let dualStack = "ISTIO_DUAL_STACK"
    public static let invalidDrop = "INVALID_DROP"
}

/// Node-wide knobs Istio reads from the plugin process's own environment (set on the runtime).
public enum PluginProcessEnvironment {
    public static let ipv4LoopbackCIDR = "ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR"
    public static let ownerGroupsInclude = "ISTIO_OUTBOUND_OWNER_GROUPS"
    public static let ownerGroupsExclude = "ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE"
}
