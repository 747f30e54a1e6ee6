import CNI

/// The rules for one pod, backend-neutral, recorded as the ordered append/insert operations Istio's
/// generator performs. The iptables backend replays them per family (identical restore files); the
/// nftables backend resolves them into final chain contents and merges both families into `inet` tables.
public struct RuleSet: Equatable, Sendable {
    public enum Position: Equatable, Sendable {
        case append
        /// 1-based, counted among the rules of the same family, as `iptables -I CHAIN n` does.
        case insert(Int)
    }

    public struct Operation: Equatable, Sendable {
        public let table: RuleTable
        public let chain: Chain
        public let position: Position
        public let rule: Rule
        /// Stable identity across the per-family projections (used to merge them).
        let id: Int
    }

    public private(set) var operations: [Operation] = []
    /// IPv4 is always programmed; IPv6 when the netns has a global IPv6 address.
    public let ipv6Enabled: Bool
    /// The policy route TPROXY capture needs beside the rules (for each programmed family); nil in
    /// REDIRECT mode.
    public internal(set) var transparentProxyRoute: TransparentProxyRoute?

    public init(ipv6: Bool) {
        ipv6Enabled = ipv6
    }

    func includes(_ family: AddressFamily) -> Bool {
        family == .ipv4 || ipv6Enabled
    }

    mutating func append(_ table: RuleTable, _ chain: Chain, _ matches: [Match], _ action: Action) {
        add(table, chain, .append, Rule(matches, action))
    }

    mutating func insert(_ table: RuleTable, _ chain: Chain, at position: Int, _ matches: [Match], _ action: Action) {
        add(table, chain, .insert(position), Rule(matches, action))
    }

    /// A rule Istio writes once per family with that family's address (`AppendVersionedRule`).
    mutating func appendVersioned(_ table: RuleTable, _ chain: Chain, _ action: Action,
                                  _ matches: (IPPrefix) -> [Match], v4: IPPrefix, v6: IPPrefix) {
        append(table, chain, matches(v4), action)
        append(table, chain, matches(v6), action)
    }

    private mutating func add(_ table: RuleTable, _ chain: Chain, _ position: Position, _ rule: Rule) {
        if let family = rule.family, !includes(family) { return }
        operations.append(Operation(table: table, chain: chain, position: position, rule: rule, id: operations.count))
    }

    /// Tables that receive at least one rule, in iptables-restore order (alphabetical).
    public var tables: [RuleTable] {
        RuleTable.allCases.filter { table in operations.contains { $0.table == table } }
    }

    /// Chains of a table as Istio declares them: chains that get rules, in order of their first rule,
    /// then chains that are only jumped to.
    public func chains(in table: RuleTable) -> [Chain] {
        var ordered: [Chain] = []
        let inTable = operations.filter { $0.table == table }
        for operation in inTable where !ordered.contains(operation.chain) {
            ordered.append(operation.chain)
        }
        for target in inTable.compactMap(\.rule.jumpTarget) where !ordered.contains(target) {
            ordered.append(target)
        }
        return ordered
    }

    /// The operations one family's iptables (or ip6tables) would receive, in order.
    public func operations(for family: AddressFamily) -> [Operation] {
        operations.filter { $0.rule.family == nil || $0.rule.family == family }
    }

    /// Final rule order of one chain as seen by one family, after replaying appends and inserts.
    func resolvedRules(_ table: RuleTable, _ chain: Chain, family: AddressFamily) -> [Operation] {
        var rules: [Operation] = []
        for operation in operations(for: family) where operation.table == table && operation.chain == chain {
            switch operation.position {
            case .append: rules.append(operation)
            case .insert(let position): rules.insert(operation, at: min(max(position - 1, 0), rules.count))
            }
        }
        return rules
    }

    /// Final rules of a chain as one family's iptables table holds them after the restore.
    public func finalRules(_ table: RuleTable, _ chain: Chain, family: AddressFamily) -> [Rule] {
        resolvedRules(table, chain, family: family).map(\.rule)
    }

    /// Tables one family's restore file writes.
    public func tables(for family: AddressFamily) -> [RuleTable] {
        let used = operations(for: family)
        return tables.filter { table in used.contains { $0.table == table } }
    }

    /// Final rules of a chain with both families merged, for an `inet` table: rules common to both
    /// families appear once, family-specific ones stay between the same common neighbours as in each
    /// family's own order. So each family sees exactly the sequence its own iptables table would hold.
    public func mergedRules(_ table: RuleTable, _ chain: Chain) -> [Rule] {
        let v4 = resolvedRules(table, chain, family: .ipv4)
        guard ipv6Enabled else { return v4.map(\.rule) }
        let v6 = resolvedRules(table, chain, family: .ipv6)
        var merged: [Rule] = []
        var i = 0, j = 0
        while i < v4.count || j < v6.count {
            if i < v4.count, v4[i].rule.family == .ipv4 {
                merged.append(v4[i].rule); i += 1
            } else if j < v6.count, v6[j].rule.family == .ipv6 {
                merged.append(v6[j].rule); j += 1
            } else if i < v4.count, j < v6.count, v4[i].id == v6[j].id {
                merged.append(v4[i].rule); i += 1; j += 1
            } else if i < v4.count {
                // Common rules appear in the same relative order in both projections, so this only
                // runs past the end of the other list; keep the rule rather than lose it.
                merged.append(v4[i].rule); i += 1
            } else {
                merged.append(v6[j].rule); j += 1
            }
        }
        return merged
    }

    /// A group named in an owner-group rule (not a GID), if any: only iptables can take those.
    public var unresolvedGroupName: String? {
        for operation in operations {
            for case .socketGroupName(let name, _) in operation.rule.matches { return name }
        }
        return nil
    }

    /// Total number of rules across all tables after merging (what the nftables backend writes).
    public var mergedRuleCount: Int {
        tables.reduce(0) { total, table in
            total + chains(in: table).reduce(0) { $0 + mergedRules(table, $1).count }
        }
    }
}

extension Rule {
    public var jumpTarget: Chain? {
        if case .jump(let chain) = action { return chain }
        return nil
    }
}
