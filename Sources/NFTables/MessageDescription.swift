import Interception

/// What one message of a transaction does, turned into text only when the kernel rejects it (so the
/// hot path never formats rule text).
enum MessageDescription {
    case text(String)
    case rule(index: Int, table: String, chain: String, rule: Rule, gateToIPv4: Bool)

    var text: String {
        switch self {
        case .text(let text): text
        case .rule(let index, let table, let chain, let rule, let gate):
            "rule \(index) of chain inet \(table) \(chain) `\(NFTRuleText.text(of: rule, gateToIPv4: gate))`"
        }
    }
}
