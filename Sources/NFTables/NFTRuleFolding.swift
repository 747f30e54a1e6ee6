import CNI
import Interception

/// One rule as the nftables backend writes it: an IR rule, or many IR rules that differ only in one
/// destination port or address, written as one rule that looks the value up in an anonymous set.
struct NFTRule: Equatable {
    /// For a folded rule, the first member's rule; its match at `set.matchIndex` is replaced by the lookup.
    let rule: Rule
    let set: FoldedSet?

    init(_ rule: Rule, set: FoldedSet? = nil) {
        self.rule = rule
        self.set = set
    }
}

/// The values a folded rule looks up, and which match of the rule they replace.
struct FoldedSet: Equatable {
    enum Elements: Equatable {
        /// Destination ports, ascending, each once.
        case ports([UInt16])
        /// Destination prefixes of one family, in the order given (merged into intervals when encoded).
        case addresses(AddressFamily, [IPPrefix])
    }

    let matchIndex: Int
    let elements: Elements

    var count: Int {
        switch elements {
        case .ports(let ports): ports.count
        case .addresses(_, let prefixes): prefixes.count
        }
    }
}

/// Istio writes one rule per excluded port or CIDR; a pod excluding thousands would make every packet
/// walk thousands of rules, and every ADD encode them. Rules next to each other that end in the same
/// verdict can be reordered freely (a packet matching any of them gets that verdict), so among such
/// neighbours those that differ only in one destination port or address become one set lookup. Short
/// lists stay one rule per entry, exactly as Istio's native nftables rules list them.
enum NFTRuleFolding {
    /// Lists longer than this are folded.
    static let largestUnfoldedList = 16

    static func fold(_ rules: [Rule]) -> [NFTRule] {
        guard rules.count > largestUnfoldedList else { return rules.map { NFTRule($0) } }
        var folded: [NFTRule] = []
        folded.reserveCapacity(rules.count)
        var start = 0
        while start < rules.count {
            var end = start + 1
            if isPlainVerdict(rules[start].action) {
                while end < rules.count, rules[end].action == rules[start].action { end += 1 }
            }
            folded += foldRun(rules[start..<end])
            start = end
        }
        return folded
    }

    /// Actions that only decide the packet's fate, with no side effect that order could change.
    private static func isPlainVerdict(_ action: Action) -> Bool {
        switch action {
        case .returnFromChain, .jump, .drop, .accept: true
        default: false
        }
    }

    private struct Group {
        let shape: [Match]
        let matchIndex: Int
        var members: [Int] = []
    }

    /// One run of rules with the same verdict: groups of one shape longer than the limit become one rule
    /// at the place of their first member; everything else stays where it was.
    private static func foldRun(_ run: ArraySlice<Rule>) -> [NFTRule] {
        guard run.count > largestUnfoldedList else { return run.map { NFTRule($0) } }
        var groups: [Group] = []
        var groupOf: [Int: Int] = [:]
        for index in run.indices {
            guard let (shape, matchIndex) = shape(of: run[index]) else { continue }
            let group: Int
            if let existing = groups.lastIndex(where: { $0.matchIndex == matchIndex && $0.shape == shape }) {
                group = existing
            } else {
                groups.append(Group(shape: shape, matchIndex: matchIndex))
                group = groups.count - 1
            }
            groups[group].members.append(index)
            groupOf[index] = group
        }
        var result: [NFTRule] = []
        for index in run.indices {
            guard let group = groupOf[index], groups[group].members.count > largestUnfoldedList else {
                result.append(NFTRule(run[index]))
                continue
            }
            guard groups[group].members.first == index else { continue }
            let members = groups[group].members.map { run[$0] }
            result.append(NFTRule(run[index], set: FoldedSet(matchIndex: groups[group].matchIndex,
                                                             elements: elements(members, at: groups[group].matchIndex))))
        }
        return result
    }

    /// The rule with its one foldable match blanked, and where that match is; nil when the rule has no
    /// such match or more than one.
    private static func shape(of rule: Rule) -> ([Match], Int)? {
        var found: Int?
        var shape = rule.matches
        for (index, match) in rule.matches.enumerated() {
            let blank: Match
            switch match {
            case .destinationPort(_, negated: false):
                blank = .destinationPort(0, negated: false)
            case .destinationAddress(let prefix, negated: false):
                blank = .destinationAddress(IPPrefix(address: prefix.isIPv4 ? .v4([0, 0, 0, 0]) : .v6([UInt8](repeating: 0, count: 16)), length: 0),
                                            negated: false)
            default:
                continue
            }
            guard found == nil else { return nil }
            found = index
            shape[index] = blank
        }
        return found.map { (shape, $0) }
    }

    private static func elements(_ members: [Rule], at index: Int) -> FoldedSet.Elements {
        if case .destinationAddress(let first, _) = members[0].matches[index] {
            let prefixes = members.compactMap { rule -> IPPrefix? in
                if case .destinationAddress(let prefix, _) = rule.matches[index] { return prefix.network }
                return nil
            }
            return .addresses(first.isIPv4 ? .ipv4 : .ipv6, prefixes)
        }
        var seen = Set<UInt16>()
        let ports = members.compactMap { rule -> UInt16? in
            if case .destinationPort(let port, _) = rule.matches[index] { return port }
            return nil
        }.filter { seen.insert($0).inserted }
        return .ports(ports.sorted())
    }
}
