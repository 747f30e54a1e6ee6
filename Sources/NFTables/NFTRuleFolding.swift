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
        /// Destination ports, in any order, repeats allowed (they are merged into ranges when encoded).
        case ports([UInt16])
        /// Destination prefixes of one family, in the order given (merged into intervals when encoded).
        case addresses(AddressFamily, [IPPrefix])
    }

    let matchIndex: Int
    let elements: Elements
    /// What the kernel gets for `elements`, worked out once for all the list's templates (a port
    /// list's TCP and UDP rules share it).
    let encoding: AnonymousSetEncoding

    init(matchIndex: Int, elements: Elements, encoding: AnonymousSetEncoding? = nil) {
        self.matchIndex = matchIndex
        self.elements = elements
        self.encoding = encoding ?? AnonymousSetEncoding(elements)
    }

    /// The ports as ranges of consecutive ports, ascending (the set is an interval set: the kernel's
    /// bitmap set for 2-byte keys checks every insert against every element, which for 10,000 ports
    /// makes one commit take about a second).
    static func portRanges(_ ports: [UInt16]) -> [ClosedRange<UInt16>] {
        var ranges: [ClosedRange<UInt16>] = []
        for port in ports.sorted() {
            if let last = ranges.last, last.upperBound < UInt16.max, port <= last.upperBound + 1 {
                ranges[ranges.count - 1] = last.lowerBound...max(last.upperBound, port)
            } else if ranges.last?.contains(port) != true {
                ranges.append(port...port)
            }
        }
        return ranges
    }

    var count: Int {
        switch elements {
        case .ports(let ports): ports.count
        case .addresses(_, let prefixes): prefixes.count
        }
    }

    static func == (a: FoldedSet, b: FoldedSet) -> Bool {
        a.matchIndex == b.matchIndex && a.elements == b.elements
    }
}

/// Istio writes one rule per excluded port or CIDR; a pod excluding thousands would make every packet
/// walk thousands of rules, and every ADD encode them. Within a list's rules (`RepeatedRules`) a packet
/// matches the rules of at most one port, and overlapping prefixes share their only template and so
/// its verdict: each template can be written once with a set of all values, and every packet still
/// meets the same verdict first. Short lists stay one rule per entry, exactly as Istio's native
/// nftables rules list them.
enum NFTRuleFolding {
    /// Lists longer than this become set lookups.
    static let largestUnfoldedList = 16

    static func rules(for repeated: RepeatedRules) -> [NFTRule] {
        guard repeated.values.count > largestUnfoldedList else { return repeated.expanded.map { NFTRule($0) } }
        let elements: FoldedSet.Elements
        switch repeated.values {
        case .ports(let ports):
            elements = .ports(ports)
        case .addresses(let prefixes):
            elements = .addresses(prefixes.first?.isIPv4 == false ? .ipv6 : .ipv4, prefixes.map(\.network))
        }
        let encoding = AnonymousSetEncoding(elements)
        return repeated.templates.map { template in
            NFTRule(template.instance(repeated.values, at: 0), set: FoldedSet(matchIndex: template.slot, elements: elements, encoding: encoding))
        }
    }
}
