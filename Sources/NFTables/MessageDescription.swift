import Interception

/// What one message of a transaction does, turned into text only when the kernel rejects it (so the
/// hot path never formats rule text).
enum MessageDescription {
    case text(String)
    case rule(index: Int, table: String, chain: String, rule: NFTRule, gateToIPv4: Bool)
    /// The anonymous set (or a part of its elements) of a folded rule.
    indirect case set(of: MessageDescription, elements: Int)

    var text: String {
        switch self {
        case .text(let text): text
        case .rule(let index, let table, let chain, let rule, let gate):
            "rule \(index) of chain inet \(table) \(chain) `\(NFTRuleText.text(of: rule, gateToIPv4: gate, elidingSetsAfter: 8))`"
        case .set(let rule, let elements):
            "the anonymous set (\(elements) elements) of \(rule.text)"
        }
    }
}
