/// The netfilter tables Istio's rules live in. iptables names them `nat`/`mangle`/`raw`; the nftables
/// backend creates one `inet` table per kind (`istio-proxy-nat`, …), as Istio's native nftables does.
public enum RuleTable: String, CaseIterable, Comparable, Sendable {
    case mangle
    case nat
    case raw

    public var nftTableName: String { "istio-proxy-\(rawValue)" }

    public static func < (lhs: RuleTable, rhs: RuleTable) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A chain in one of those tables: the two hook chains, or one of Istio's own.
public enum Chain: Hashable, Sendable {
    case prerouting
    case output
    case istioInbound
    case istioRedirect
    case istioInRedirect
    case istioOutput
    case istioOutputDNS
    case istioDrop
    case istioDivert
    case istioTransparentProxy

    public var isHook: Bool { self == .prerouting || self == .output }

    public var iptablesName: String {
        switch self {
        case .prerouting: "PREROUTING"
        case .output: "OUTPUT"
        case .istioInbound: "ISTIO_INBOUND"
        case .istioRedirect: "ISTIO_REDIRECT"
        case .istioInRedirect: "ISTIO_IN_REDIRECT"
        case .istioOutput: "ISTIO_OUTPUT"
        case .istioOutputDNS: "ISTIO_OUTPUT_DNS"
        case .istioDrop: "ISTIO_DROP"
        case .istioDivert: "ISTIO_DIVERT"
        case .istioTransparentProxy: "ISTIO_TPROXY"
        }
    }

    public var nftName: String {
        switch self {
        case .prerouting: "prerouting"
        case .output: "output"
        case .istioInbound: "istio-inbound"
        case .istioRedirect: "istio-redirect"
        case .istioInRedirect: "istio-in-redirect"
        case .istioOutput: "istio-output"
        case .istioOutputDNS: "istio-output-dns"
        case .istioDrop: "istio-drop"
        case .istioDivert: "istio-divert"
        case .istioTransparentProxy: "istio-tproxy"
        }
    }
}
