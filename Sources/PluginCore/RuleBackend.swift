import IPTables

/// Which backend writes a pod's rules. Both write the same rule set; nftables (one netlink
/// transaction, no binaries on the node) is the default, iptables exists for nodes whose tooling
/// reads `iptables-save`.
public enum RuleBackend: Sendable, Equatable, CustomStringConvertible {
    case nftables
    /// `forced`: the variant `FORCE_IPTABLES_BINARY` pins; nil chooses like Istio.
    case iptables(forced: IPTablesVariant?)

    public var description: String {
        switch self {
        case .nftables: "nftables"
        case .iptables(let forced): "iptables" + (forced.map { " (\($0.rawValue))" } ?? "")
        }
    }
}
