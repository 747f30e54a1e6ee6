import CNI

public enum PortSelection: Equatable, Sendable {
    /// Every port (`*`).
    case all
    /// Only these ports; an empty list means none.
    case ports([UInt16])

    public var isNone: Bool { self == .ports([]) }
}

public enum IPRangeSelection: Equatable, Sendable {
    /// Every destination (`*`).
    case all
    /// Only these ranges (IPv4 and IPv6 mixed); empty means none.
    case ranges([IPPrefix])

    public var includesLoopback: Bool {
        guard case .ranges(let prefixes) = self else { return false }
        return prefixes.contains { $0.address.isLoopback }
    }
}

/// Which sockets' traffic is captured by group (Istio's ISTIO_OUTBOUND_OWNER_GROUPS[_EXCLUDE]).
public enum OwnerGroupFilter: Equatable, Sendable {
    /// Capture all groups except these (the default, with none excepted).
    case allExcept([UInt32])
    /// Capture only these groups.
    case only([UInt32])
}

/// A pod's validated interception settings: everything the rule builder needs, nothing it has to check.
public struct InterceptionPolicy: Equatable, Sendable {
    public enum Mode: String, Sendable {
        case redirect = "REDIRECT"
        case tproxy = "TPROXY"
    }

    public static let defaultProxyUID: UInt32 = 1337
    /// Inbound ports the sidecar itself serves (status, health, Prometheus); never captured.
    public static let alwaysExcludedInboundPorts: [UInt16] = [15020, 15021, 15090]

    public var mode: Mode = .redirect
    public var proxyPort: UInt16 = 15001
    public var inboundCapturePort: UInt16 = 15006
    public var inboundTunnelPort: UInt16 = 15008
    public var dnsListenerPort: UInt16 = 15053
    /// TPROXY: the mark on inbound packets handed to the proxy, and the routing table for them.
    public var transparentProxyMark: UInt32 = 1337
    public var transparentProxyRouteTable: UInt32 = 133
    /// TPROXY: the mark on the proxy's own connections to the app over lo.
    public var proxyOutboundMark: UInt32 = 1338
    public var proxyUID: UInt32 = defaultProxyUID
    public var proxyGID: UInt32 = defaultProxyUID
    public var inboundPortsInclude: PortSelection = .all
    public var inboundPortsExclude: [UInt16] = alwaysExcludedInboundPorts
    public var outboundPortsInclude: [UInt16] = []
    public var outboundPortsExclude: [UInt16] = [15020]
    public var outboundIPRangesInclude: IPRangeSelection = .all
    public var outboundIPRangesExclude: [IPPrefix] = []
    public var excludeInterfaces: [String] = []
    public var rerouteInterfaces: [String] = []
    public var captureDNS = false
    public var dualStack = false
    public var dropInvalid = false
    public var hostIPv4LoopbackCIDR = IPPrefix(address: .v4([127, 0, 0, 1]), length: 32)
    public var ownerGroups: OwnerGroupFilter = .allExcept([])

    public init() {}
}
