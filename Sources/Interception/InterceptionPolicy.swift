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

/// A group as ISTIO_OUTBOUND_OWNER_GROUPS[_EXCLUDE] name it: a GID, or a name the node resolves
/// (`java,202`). iptables resolves names itself; nftables rules need the GID.
public enum OwnerGroup: Hashable, Sendable, CustomStringConvertible {
    case id(UInt32)
    case name(String)

    public var description: String {
        switch self {
        case .id(let id): String(id)
        case .name(let name): name
        }
    }
}

/// Which sockets' traffic is captured by group (Istio's ISTIO_OUTBOUND_OWNER_GROUPS[_EXCLUDE]).
public enum OwnerGroupFilter: Equatable, Sendable {
    /// Capture all groups except these (the default, with none excepted).
    case allExcept([OwnerGroup])
    /// Capture only these groups.
    case only([OwnerGroup])

    public var groups: [OwnerGroup] {
        switch self {
        case .allExcept(let groups), .only(let groups): groups
        }
    }
}

/// Looks group names up on the node (the plugin runs in the node's mount namespace).
public protocol GroupDirectory: Sendable {
    func groupID(named name: String) -> UInt32?
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

    /// Group names in the owner-group filter that are not GIDs.
    public var ownerGroupNames: [String] {
        ownerGroups.groups.compactMap { if case .name(let name) = $0 { name } else { nil } }
    }

    /// The same policy with every owner-group name replaced by its GID; a name the node does not know
    /// is an error naming it and the variable it came from.
    public func resolvingGroupNames(in directory: some GroupDirectory) throws(InterceptionError) -> InterceptionPolicy {
        guard !ownerGroupNames.isEmpty else { return self }
        func resolve(_ groups: [OwnerGroup], source: String) throws(InterceptionError) -> [OwnerGroup] {
            var resolved: [OwnerGroup] = []
            for group in groups {
                guard case .name(let name) = group else {
                    resolved.append(group)
                    continue
                }
                guard let id = directory.groupID(named: name) else {
                    throw InterceptionError(source: source, value: groups.map(\.description).joined(separator: ","),
                                            problem: "group \"\(name)\" does not exist on this node")
                }
                resolved.append(.id(id))
            }
            return resolved
        }
        var policy = self
        switch ownerGroups {
        case .allExcept(let groups): policy.ownerGroups = .allExcept(try resolve(groups, source: PluginProcessEnvironment.ownerGroupsExclude))
        case .only(let groups): policy.ownerGroups = .only(try resolve(groups, source: PluginProcessEnvironment.ownerGroupsInclude))
        }
        return policy
    }
}
