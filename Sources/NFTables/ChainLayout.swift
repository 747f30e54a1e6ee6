import CLibnftnl
import Interception

/// How each hook chain is declared: Istio's native nftables layout (reference §2.6).
struct HookChainLayout: Equatable {
    let hook: UInt32
    let priority: Int32
    let type: String

    static func layout(table: RuleTable, chain: Chain) -> HookChainLayout? {
        let hook: UInt32
        switch chain {
        case .prerouting: hook = UInt32(NF_INET_PRE_ROUTING.rawValue)
        case .output: hook = UInt32(NF_INET_LOCAL_OUT.rawValue)
        default: return nil
        }
        switch table {
        case .nat: return HookChainLayout(hook: hook, priority: -100, type: "nat")
        case .mangle: return HookChainLayout(hook: hook, priority: -150, type: chain == .output ? "route" : "filter")
        case .raw: return HookChainLayout(hook: hook, priority: -300, type: "filter")
        }
    }

    var hookName: String { hook == UInt32(NF_INET_PRE_ROUTING.rawValue) ? "prerouting" : "output" }
}
