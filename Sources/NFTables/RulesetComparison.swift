import CLibnftnl
import Interception

/// Compares the rules we would write now with what the kernel holds and says, in nft terms, what is
/// missing, different or unexpected. An empty result means the namespace is exactly as ADD leaves it.
enum RulesetComparison {
    static func problems(expected rules: RuleSet, live: LiveRuleset) -> [String] {
        var problems: [String] = []
        let expectedTables = rules.tables
        for name in live.tables.keys.sorted() where !expectedTables.contains(where: { $0.nftTableName == name }) {
            problems.append("unexpected table inet \(name)")
        }
        for table in expectedTables {
            let name = table.nftTableName
            guard let liveChains = live.tables[name] else {
                problems.append("table inet \(name) is missing")
                continue
            }
            let chains = rules.chains(in: table)
            for chainName in liveChains.keys.sorted() where !chains.contains(where: { $0.nftName == chainName }) {
                problems.append("unexpected chain inet \(name) \(chainName)")
            }
            for chain in chains {
                let place = "inet \(name) \(chain.nftName)"
                guard let state = liveChains[chain.nftName] else {
                    problems.append("chain \(place) is missing")
                    continue
                }
                let hook = HookChainLayout.layout(table: table, chain: chain)
                if state.hook != hook || (hook != nil && state.policy != UInt32(NF_ACCEPT)) {
                    let wanted = hook.map { "type \($0.type) hook \($0.hookName) priority \($0.priority); policy accept" } ?? "a regular chain"
                    problems.append("chain \(place) is not declared as expected (\(wanted))")
                }
                let gate = chain.isHook && !rules.ipv6Enabled
                let expected = rules.nftRules(table, chain)
                let expectedForms = expected.map { CanonicalRule.expressions(of: $0, table: name, chain: chain.nftName, gateToIPv4: gate) }
                problems += ruleProblems(place: place, expected: expected, expectedForms: expectedForms, found: state.rules, gate: gate)
            }
        }
        return problems
    }

    private static func ruleProblems(place: String, expected: [NFTRule], expectedForms: [[String]], found: [[String]], gate: Bool) -> [String] {
        guard expectedForms != found else { return [] }
        var problems: [String] = []
        for (index, form) in expectedForms.enumerated() where !found.contains(form) {
            problems.append("chain \(place): rule \(index + 1) `\(NFTRuleText.text(of: expected[index], gateToIPv4: gate, elidingSetsAfter: 8))` is missing")
        }
        for form in found where !expectedForms.contains(form) {
            problems.append("chain \(place): unexpected rule [\(form.joined(separator: " | "))]")
        }
        if problems.isEmpty {
            problems.append("chain \(place): rules are in a different order than istio-cni writes them")
        }
        return problems
    }
}
