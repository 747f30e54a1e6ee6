import IPTables
import Interception
import NFTables

/// The iptables backend for one pod namespace: Istio's restore files, written with the variant Istio
/// would choose; a namespace that holds our earlier chains gets them replaced, one atomic restore per
/// table; a failed write is rolled back, so the namespace holds all of the rules or none.
struct IPTablesPodRules {
    let runner: IPTablesRunner
    let forced: IPTablesVariant?

    struct Written {
        let ownership: IPTablesOwnership
        let tools: [IPTablesTool]
        let ruleCount: Int
    }

    /// The variant and hook rules each programmed family will get (recorded before writing).
    func plan(_ rules: RuleSet, state: IPTablesState) throws(PodRulesFailure) -> (IPTablesOwnership, [IPTablesTool]) {
        var ownership = IPTablesOwnership(families: [:])
        var tools: [IPTablesTool] = []
        for family in families(of: rules) {
            let tool = try runner.choose(family, forced: forced, legacyHoldsRules: state.legacyHoldsRules(family))
            tools.append(tool)
            ownership.families[family] = .init(variant: tool.variant, hookRules: IPTablesScript.hookRules(rules, family: family))
        }
        return (ownership, tools)
    }

    func write(_ rules: RuleSet, tools: [IPTablesTool], ownership: IPTablesOwnership, previous: IPTablesOwnership?,
               state: IPTablesState) throws(PodRulesFailure) -> Int {
        var written: [IPTablesTool] = []
        for tool in tools {
            let live = state.snapshot(tool.family, tool.variant == .plain ? .nft : tool.variant)
            let script: String
            if let live, !live.istioChains.isEmpty || !live.jumpsIntoIstioChains.isEmpty {
                let owned = Set(previous?.families[tool.family]?.hookRules ?? [])
                script = IPTablesScript.replacing(live: live, ownedHookRules: owned, with: rules, family: tool.family)
            } else {
                script = IPTablesRestoreRenderer.render(rules, family: tool.family)
            }
            do {
                try runner.restore(tool, script)
            } catch {
                // A restore commits table by table; take back whatever of this ADD got in.
                for done in written + [tool] {
                    let owned = Set(ownership.families[done.family]?.hookRules ?? []).union(previous?.families[done.family]?.hookRules ?? [])
                    try? remove(done, ownedHookRules: owned)
                }
                throw error
            }
            written.append(tool)
        }
        return tools.reduce(0) { $0 + rules.operations(for: $1.family).count }
    }

    /// Removes what `ownership` says we wrote (every Istio chain of that variant and our hook rules).
    func remove(_ ownership: IPTablesOwnership, except keep: [IPTablesTool] = []) throws(PodRulesFailure) {
        for (family, entry) in ownership.families.sorted(by: { $0.key == .ipv4 && $1.key == .ipv6 })
        where !keep.contains(where: { $0.family == family && $0.variant == entry.variant }) {
            let tool = try runner.choose(family, forced: entry.variant, legacyHoldsRules: entry.variant == .legacy)
            try remove(tool, ownedHookRules: Set(entry.hookRules))
        }
    }

    private func remove(_ tool: IPTablesTool, ownedHookRules: Set<String>) throws(PodRulesFailure) {
        let live = try runner.save(tool)
        let script = IPTablesScript.replacing(live: live, ownedHookRules: ownedHookRules, with: nil, family: tool.family)
        if !script.isEmpty { try runner.restore(tool, script) }
    }

    /// What differs from `rules` (nil: the pod should have none) in each family's iptables.
    func problems(_ rules: RuleSet?, ipv6: Bool, state: IPTablesState, ownership: IPTablesOwnership?) throws(PodRulesFailure) -> [String] {
        var problems: [String] = []
        for family in ipv6 ? [AddressFamily.ipv4, .ipv6] : [.ipv4] {
            let tool: IPTablesTool
            if let recorded = ownership?.families[family]?.variant {
                tool = try runner.choose(family, forced: recorded, legacyHoldsRules: recorded == .legacy)
            } else {
                tool = try runner.choose(family, forced: forced, legacyHoldsRules: state.legacyHoldsRules(family))
            }
            problems += IPTablesComparison.problems(expected: rules, family: family, live: try runner.save(tool), tool: tool.displayName)
        }
        return problems
    }

    private func families(of rules: RuleSet) -> [AddressFamily] {
        rules.ipv6Enabled ? [.ipv4, .ipv6] : [.ipv4]
    }
}
