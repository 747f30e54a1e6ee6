import Interception

/// What differs between the rules istio-cni would write for one family and what `iptables-save`
/// shows, in iptables terms. Rules of other components in the hook chains are not ours to judge and
/// are ignored; every Istio chain and every jump into one is.
public enum IPTablesComparison {
    public static func problems(expected rules: RuleSet?, family: AddressFamily, live: IPTablesSnapshot,
                                tool: String) -> [String] {
        var problems: [String] = []
        let expectedTables = rules?.tables(for: family) ?? []
        for tableName in IPTablesNames.istioTables {
            let state = live.tables[tableName] ?? IPTablesSnapshot.Table()
            let table = RuleTable(rawValue: tableName)
            let expectedChains = table.flatMap { table in expectedTables.contains(table) ? rules?.chains(in: table) : nil } ?? []
            let place = "\(tool) -t \(tableName)"
            for chain in state.chains where IPTablesNames.isIstioChain(chain) && !expectedChains.contains(where: { $0.iptablesName == chain }) {
                problems.append("\(place): unexpected chain \(chain)")
            }
            for chain in [Chain.prerouting, .output] + expectedChains.filter({ !$0.isHook }) {
                let expected = table.flatMap { table in expectedChains.contains(chain) ? rules?.finalRules(table, chain, family: family) : nil }?
                    .map { IPTablesSaveForm.specification(of: $0, family: family) } ?? []
                if !chain.isHook && !state.chains.contains(chain.iptablesName) {
                    problems.append("\(place): chain \(chain.iptablesName) is missing")
                    continue
                }
                var found = state.rules(in: chain.iptablesName)
                if chain.isHook {
                    found = found.filter { expected.contains($0) || IPTablesNames.jumpsIntoIstioChain($0) }
                }
                problems += ruleProblems(place: "\(place) \(chain.iptablesName)", expected: expected, found: found)
            }
        }
        return problems
    }

    private static func ruleProblems(place: String, expected: [String], found: [String]) -> [String] {
        guard expected != found else { return [] }
        var problems: [String] = []
        for (index, rule) in expected.enumerated() where !found.contains(rule) {
            problems.append("\(place): rule \(index + 1) `\(rule)` is missing")
        }
        for rule in found where !expected.contains(rule) {
            problems.append("\(place): unexpected rule `\(rule)`")
        }
        if problems.isEmpty {
            problems.append("\(place): rules are " + (found.count == expected.count ? "in a different order than istio-cni writes them" : "duplicated"))
        }
        return problems
    }
}
