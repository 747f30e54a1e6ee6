import CNI

public enum AddressFamily: Hashable, Sendable {
    case ipv4
    case ipv6
}

public enum TransportProtocol: Hashable, Sendable {
    case tcp
    case udp

    public var number: UInt8 { self == .tcp ? 6 : 17 }
    public var name: String { self == .tcp ? "tcp" : "udp" }
}

public enum ConntrackState: Hashable, Sendable {
    case invalid
    case established
    case related
}

/// The policy route TPROXY needs (Istio's `ip rule add fwmark 1337 lookup 133` and
/// `ip route add local 0.0.0.0/0 dev lo table 133`, and their IPv6 twins): packets the mangle rules
/// marked are routed to the local stack, where the transparent listener takes them.
public struct TransparentProxyRoute: Equatable, Sendable {
    public let mark: UInt32
    public let table: UInt32

    public init(mark: UInt32, table: UInt32) {
        self.mark = mark
        self.table = table
    }
}

/// One condition of a rule. Each maps to one iptables option and to a short nftables expression list.
public enum Match: Equatable, Sendable {
    /// Only packets of this address family (implicit in an iptables table choice; `meta nfproto` in nft).
    case family(AddressFamily)
    case transportProtocol(TransportProtocol)
    /// Needs a preceding `transportProtocol` match.
    case destinationPort(UInt16, negated: Bool)
    /// None of these ports (iptables `-m multiport ! --dports`). Needs a preceding `transportProtocol`.
    case destinationPortNotIn([UInt16])
    case sourcePort(UInt16)
    case inputInterface(String)
    case outputInterface(String)
    case sourceAddress(IPPrefix, negated: Bool)
    case destinationAddress(IPPrefix, negated: Bool)
    case socketUID(UInt32, negated: Bool)
    case socketGID(UInt32, negated: Bool)
    /// A socket owned by a group given by name (ISTIO_OUTBOUND_OWNER_GROUPS); only the iptables
    /// backend writes names, which iptables resolves. The nftables backend resolves them first.
    case socketGroupName(String, negated: Bool)
    case conntrackState([ConntrackState])
    /// The packet mark (iptables `-m mark [!] --mark`).
    case packetMark(UInt32, negated: Bool)
    /// The connection's conntrack mark (iptables `-m connmark --mark`).
    case connectionMark(UInt32)

    /// The family this match restricts a rule to, if any.
    var impliedFamily: AddressFamily? {
        switch self {
        case .family(let family): family
        case .sourceAddress(let prefix, _), .destinationAddress(let prefix, _): prefix.isIPv4 ? .ipv4 : .ipv6
        default: nil
        }
    }
}

public enum Action: Equatable, Sendable {
    case jump(Chain)
    case returnFromChain
    case drop
    /// Rewrite the destination to the local address and this port (nat only).
    case redirect(toPort: UInt16)
    /// Put the connection in a conntrack zone (raw only).
    case setConntrackZone(UInt16)
    /// Accept the packet in this table (ends its traversal of the table).
    case accept
    /// Set the packet mark and continue (iptables `-j MARK --set-mark`).
    case setPacketMark(UInt32)
    /// Hand the packet to the transparent socket listening on `port` and mark it; a packet no such
    /// socket takes is dropped, as iptables' TPROXY target does (mangle prerouting only).
    case transparentProxy(toPort: UInt16, mark: UInt32)
    /// Copy the packet mark to the connection (iptables `-j CONNMARK --save-mark`).
    case saveMarkToConnection
    /// Copy the connection's mark to the packet (iptables `-j CONNMARK --restore-mark`).
    case restoreMarkFromConnection
}

public struct Rule: Equatable, Sendable {
    public var matches: [Match]
    public var action: Action

    public init(_ matches: [Match], _ action: Action) {
        self.matches = matches
        self.action = action
    }

    /// The single address family this rule applies to, or nil when it applies to both.
    public var family: AddressFamily? {
        matches.lazy.compactMap(\.impliedFamily).first
    }
}
