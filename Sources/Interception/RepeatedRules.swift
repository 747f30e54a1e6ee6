import CNI

/// The values of a list Istio writes rules for one by one: ports, or prefixes of one family.
public enum ListValues: Equatable, Sendable {
    case ports([UInt16])
    case addresses([IPPrefix])

    public var count: Int {
        switch self {
        case .ports(let ports): ports.count
        case .addresses(let prefixes): prefixes.count
        }
    }
}

/// A rule with one match that takes each value of a list: a destination port, or a destination
/// address, compared for equality.
public struct RuleTemplate: Equatable, Sendable {
    public let rule: Rule
    /// The index in `rule.matches` of the match that takes the value.
    public let slot: Int

    public init(_ matches: [Match], slot: Int, _ action: Action) {
        rule = Rule(matches, action)
        self.slot = slot
    }

    public func instance(_ values: ListValues, at index: Int) -> Rule {
        var matches = rule.matches
        switch values {
        case .ports(let ports): matches[slot] = .destinationPort(ports[index], negated: false)
        case .addresses(let prefixes): matches[slot] = .destinationAddress(prefixes[index], negated: false)
        }
        return Rule(matches, rule.action)
    }
}

/// For each value in turn, each template with that value (Istio's `for port in ports { tcp …; udp … }`).
/// A packet matches the rules of at most one port; prefixes may overlap, but a prefix list has one
/// template and so one verdict. A backend may therefore also write each template once for all values
/// (an nftables set lookup) without changing the verdict any packet meets first.
public struct RepeatedRules: Equatable, Sendable {
    public let templates: [RuleTemplate]
    public let values: ListValues

    public init(templates: [RuleTemplate], values: ListValues) {
        self.templates = templates
        self.values = values
    }

    public var ruleCount: Int { templates.count * values.count }

    /// The family its addresses (or a template's own address matches) limit it to.
    var family: AddressFamily? {
        if case .addresses(let prefixes) = values, let first = prefixes.first { return first.isIPv4 ? .ipv4 : .ipv6 }
        return templates.lazy.compactMap(\.rule.family).first
    }

    /// One rule per template and value, in Istio's order.
    public var expanded: [Rule] {
        var rules: [Rule] = []
        rules.reserveCapacity(ruleCount)
        for index in 0..<values.count {
            for template in templates { rules.append(template.instance(values, at: index)) }
        }
        return rules
    }
}
