import CNI

/// The rules for one pod, backend-neutral, recorded as the ordered append/insert operations Istio's
/// generator performs. The iptables backend replays them per family (identical restore files); the
/// nftables backend resolves them into final chain contents and merges both families into `inet` tables.
///
/// The rules Istio writes once per entry of a list (an excluded port, an excluded CIDR) are kept as
/// one entry (`RepeatedRules`): iptables gets them one rule per value as Istio writes them, while the
/// nftables backend can write a long list as one set lookup without building thousands of rules first.
public struct RuleSet: Equatable, Sendable {
    public enum Position: Equatable, Sendable {
        case append
        /// 1-based, counted among the rules of the same family, as `iptables -I CHAIN n` does.
        case insert(Int)
    }

    /// One rule as a family's iptables receives it (lists expanded).
    public struct Operation: Equatable, Sendable {
        public let table: RuleTable
        public let chain: Chain
        public let position: Position
        public let rule: Rule
    }

    public enum Content: Equatable, Sendable {
        case rule(Rule)
        case repeated(RepeatedRules)

        var ruleCount: Int {
            switch self {
            case .rule: 1
            case .repeated(let repeated): repeated.ruleCount
            }
        }

        var expanded: [Rule] {
            switch self {
            case .rule(let rule): [rule]
            case .repeated(let repeated): repeated.expanded
            }
        }
    }

    /// One append or insert of a rule or of a list's rules.
    public struct Entry: Equatable, Sendable {
        public let table: RuleTable
        public let chain: Chain
        public let position: Position
        public let content: Content
        /// Stable identity across the per-family projections (used to merge them).
        let id: Int
        /// The family the entry is limited to, worked out once; nil for both.
        let family: AddressFamily?
    }

    public private(set) var entries: [Entry] = []
    /// IPv4 is always programmed; IPv6 when the pod gets IPv6 interception.
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
        add(table, chain, .append, .rule(Rule(matches, action)), family: Rule(matches, action).family)
    }

    mutating func insert(_ table: RuleTable, _ chain: Chain, at position: Int, _ matches: [Match], _ action: Action) {
        add(table, chain, .insert(position), .rule(Rule(matches, action)), family: Rule(matches, action).family)
    }

    /// A rule Istio writes once per family with that family's address (`AppendVersionedRule`).
    mutating func appendVersioned(_ table: RuleTable, _ chain: Chain, _ action: Action,
                                  _ matches: (IPPrefix) -> [Match], v4: IPPrefix, v6: IPPrefix) {
        append(table, chain, matches(v4), action)
        append(table, chain, matches(v6), action)
    }

    /// For each value in turn, each of `templates` with the value at its slot (Istio's loops over a
    /// list). Address lists must hold one family.
    mutating func appendEach(_ table: RuleTable, _ chain: Chain, _ values: ListValues, _ templates: [RuleTemplate]) {
        guard values.count > 0, !templates.isEmpty else { return }
        let repeated = RepeatedRules(templates: templates, values: values)
        add(table, chain, .append, .repeated(repeated), family: repeated.family)
    }

    private mutating func add(_ table: RuleTable, _ chain: Chain, _ position: Position, _ content: Content, family: AddressFamily?) {
        if let family, !includes(family) { return }
        entries.append(Entry(table: table, chain: chain, position: position, content: content, id: entries.count, family: family))
    }

    /// Every rule in generation order, lists expanded (what iptables-restore input is written from).
    public var operations: [Operation] {
        entries.flatMap { entry in
            entry.content.expanded.map { Operation(table: entry.table, chain: entry.chain, position: entry.position, rule: $0) }
        }
    }

    /// Tables that receive at least one rule, in iptables-restore order (alphabetical).
    public var tables: [RuleTable] {
        RuleTable.allCases.filter { table in entries.contains { $0.table == table } }
    }

    /// Tables one family's restore file writes.
    public func tables(for family: AddressFamily) -> [RuleTable] {
        tables.filter { table in entries.contains { $0.table == table && ($0.family == nil || $0.family == family) } }
    }

    /// Chains of a table as Istio declares them: chains that get rules, in order of their first rule,
    /// then chains that are only jumped to.
    public func chains(in table: RuleTable) -> [Chain] {
        var ordered: [Chain] = []
        var targets: [Chain] = []
        for entry in entries where entry.table == table {
            if !ordered.contains(entry.chain) { ordered.append(entry.chain) }
            for target in entry.content.jumpTargets where !targets.contains(target) { targets.append(target) }
        }
        return ordered + targets.filter { !ordered.contains($0) }
    }

    /// The operations one family's iptables (or ip6tables) would receive, in order.
    public func operations(for family: AddressFamily) -> [Operation] {
        RuleSet.applying(entries, to: family).flatMap { entry in
            entry.content.expanded.map { Operation(table: entry.table, chain: entry.chain, position: entry.position, rule: $0) }
        }
    }

    /// Each chain's entries in generation order, gathered in one pass.
    public func entriesByChain() -> [TableChain: [Entry]] {
        var grouped: [TableChain: [Entry]] = [:]
        for entry in entries { grouped[TableChain(table: entry.table, chain: entry.chain), default: []].append(entry) }
        return grouped
    }

    private static func applying(_ entries: [Entry], to family: AddressFamily) -> [Entry] {
        entries.filter { $0.family == nil || $0.family == family }
    }

    /// One chain's entries (in order) as one family sees them after appends and inserts. An insert
    /// that lands inside a list's rules splits the list there.
    static func resolved(_ chainEntries: [Entry], family: AddressFamily) -> [Entry] {
        var resolved: [Entry] = []
        resolved.reserveCapacity(chainEntries.count)
        for entry in chainEntries where entry.family == nil || entry.family == family {
            guard case .insert(let position) = entry.position else {
                resolved.append(entry)
                continue
            }
            var before = max(position - 1, 0)
            var index = 0
            while index < resolved.count, before > 0 {
                let count = resolved[index].content.ruleCount
                if count <= before {
                    before -= count
                    index += 1
                } else {
                    resolved.replaceSubrange(index...index, with: resolved[index].split())
                }
            }
            resolved.insert(entry, at: index)
        }
        return resolved
    }

    /// Final rules of a chain as one family's iptables table holds them after the restore.
    public func finalRules(_ table: RuleTable, _ chain: Chain, family: AddressFamily) -> [Rule] {
        Self.resolved(entries.filter { $0.table == table && $0.chain == chain }, family: family).flatMap(\.content.expanded)
    }

    /// Final rules of a chain with both families merged, for an `inet` table: rules common to both
    /// families appear once, family-specific ones stay between the same common neighbours as in each
    /// family's own order. So each family sees exactly the sequence its own iptables table would hold.
    public func mergedRules(_ table: RuleTable, _ chain: Chain) -> [Rule] {
        mergedContent(of: entries.filter { $0.table == table && $0.chain == chain }).flatMap(\.expanded)
    }

    /// The same, from one chain's entries (`entriesByChain`), lists kept whole.
    public func mergedContent(of chainEntries: [Entry]) -> [Content] {
        let v4 = Self.resolved(chainEntries, family: .ipv4)
        guard ipv6Enabled else { return v4.map(\.content) }
        let v6 = Self.resolved(chainEntries, family: .ipv6)
        var merged: [Content] = []
        merged.reserveCapacity(max(v4.count, v6.count))
        var i = 0, j = 0
        while i < v4.count || j < v6.count {
            if i < v4.count, v4[i].family == .ipv4 {
                merged.append(v4[i].content); i += 1
            } else if j < v6.count, v6[j].family == .ipv6 {
                merged.append(v6[j].content); j += 1
            } else if i < v4.count, j < v6.count, v4[i].id == v6[j].id {
                merged.append(v4[i].content); i += 1; j += 1
            } else if i < v4.count {
                // Common entries appear in the same relative order in both projections, so this only
                // runs past the end of the other list; keep the entry rather than lose it.
                merged.append(v4[i].content); i += 1
            } else {
                merged.append(v6[j].content); j += 1
            }
        }
        return merged
    }

    /// A group named in an owner-group rule (not a GID), if any: only iptables can take those.
    public var unresolvedGroupName: String? {
        for entry in entries {
            guard case .rule(let rule) = entry.content else { continue }
            for case .socketGroupName(let name, _) in rule.matches { return name }
        }
        return nil
    }

    /// Total number of rules across all tables after merging (what the nftables backend would write
    /// with one rule per list entry).
    public var mergedRuleCount: Int {
        let byChain = entriesByChain()
        return tables.reduce(0) { total, table in
            total + chains(in: table).reduce(0) { count, chain in
                count + mergedContent(of: byChain[TableChain(table: table, chain: chain)] ?? []).reduce(0) { $0 + $1.ruleCount }
            }
        }
    }
}

extension RuleSet.Entry {
    /// The entry with a list's rules as single rules (ids derived from this entry's, so both family
    /// projections split alike).
    func split() -> [RuleSet.Entry] {
        guard case .repeated(let repeated) = content else { return [self] }
        return repeated.expanded.enumerated().map { index, rule in
            RuleSet.Entry(table: table, chain: chain, position: .append, content: .rule(rule), id: id * 1_000_003 + index + 1, family: family)
        }
    }
}

extension RuleSet.Content {
    var jumpTargets: [Chain] {
        switch self {
        case .rule(let rule): rule.jumpTarget.map { [$0] } ?? []
        case .repeated(let repeated): repeated.templates.compactMap(\.rule.jumpTarget)
        }
    }
}

/// A chain of one table: the key `entriesByChain` groups by.
public struct TableChain: Hashable, Sendable {
    public let table: RuleTable
    public let chain: Chain

    public init(table: RuleTable, chain: Chain) {
        self.table = table
        self.chain = chain
    }
}

extension Rule {
    public var jumpTarget: Chain? {
        if case .jump(let chain) = action { return chain }
        return nil
    }
}
