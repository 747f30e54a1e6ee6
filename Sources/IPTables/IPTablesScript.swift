import Interception

/// `iptables-restore --noflush` input for the cases beyond a fresh namespace (which gets exactly
/// Istio's document, `IPTablesRestoreRenderer`): replacing or removing Istio chains istio-cni wrote
/// earlier. Each table is one atomic restore transaction, so a namespace never holds half of a change.
public enum IPTablesScript {
    /// Removes what `live` holds of ours and writes `rules` (nil: only remove), table by table.
    /// `ownedHookRules` are the hook-chain rules ("table CHAIN spec", save form) we wrote earlier; any
    /// hook rule jumping into an Istio chain is ours as well (we only get here when the Istio chains are).
    public static func replacing(live: IPTablesSnapshot, ownedHookRules: Set<String>, with rules: RuleSet?,
                                 family: AddressFamily) -> String {
        var lines: [String] = []
        let newTables = rules?.tables(for: family).map(\.rawValue) ?? []
        for table in IPTablesNames.istioTables {
            let state = live.tables[table] ?? IPTablesSnapshot.Table()
            let existing = state.chains.filter(IPTablesNames.isIstioChain)
            let ownedHooks = IPTablesNames.hookChains.flatMap { chain in
                state.rules(in: chain).filter { ownedHookRules.contains("\(table) \(chain) \($0)") || IPTablesNames.jumpsIntoIstioChain($0) }
                    .map { (chain, $0) }
            }
            guard !existing.isEmpty || !ownedHooks.isEmpty || newTables.contains(table) else { continue }
            let ruleTable = RuleTable(rawValue: table)
            let wanted = ruleTable.flatMap { rules?.chains(in: $0).filter { !$0.isHook }.map(\.iptablesName) } ?? []
            lines.append("* \(table)")
            lines += existing.map { ":\($0) - [0:0]" }
            lines += ownedHooks.map { "-D \($0.0) \($0.1)" }
            lines += existing.filter { !wanted.contains($0) }.map { "-X \($0)" }
            lines += wanted.filter { !existing.contains($0) }.map { "-N \($0)" }
            if let rules, let ruleTable {
                lines += IPTablesRestoreRenderer.ruleLines(rules, table: ruleTable, family: family)
            }
            lines.append("COMMIT")
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// The hook-chain rules `rules` writes, in save form, as "table CHAIN spec" (kept in the sandbox
    /// record so a later ADD or DEL removes exactly these).
    public static func hookRules(_ rules: RuleSet, family: AddressFamily) -> [String] {
        rules.tables(for: family).flatMap { table in
            [Chain.prerouting, .output].flatMap { chain in
                rules.finalRules(table, chain, family: family).map {
                    "\(table.rawValue) \(chain.iptablesName) \(IPTablesSaveForm.specification(of: $0, family: family))"
                }
            }
        }
    }
}
