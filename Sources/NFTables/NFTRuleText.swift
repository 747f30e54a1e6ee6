import Interception

/// nft syntax for rules and whole rule sets: used in messages (CHECK names rules this way), logs,
/// and to produce the equivalent `nft -f` script for comparisons.
public enum NFTRuleText {
    public static func text(of rule: Rule, gateToIPv4: Bool = false) -> String {
        text(of: NFTRule(rule), gateToIPv4: gateToIPv4)
    }

    /// A folded rule lists its set inline (`tcp dport { 80, 443 }`); with `elidingSetsAfter`, only that
    /// many of its elements (messages about a rule with thousands of them stay readable).
    static func text(of nftRule: NFTRule, gateToIPv4: Bool = false, elidingSetsAfter limit: Int? = nil) -> String {
        let rule = nftRule.rule
        var words: [String] = gateToIPv4 ? ["meta nfproto ipv4"] : []
        var proto = "tcp"
        for (index, match) in rule.matches.enumerated() {
            if let set = nftRule.set, index == set.matchIndex {
                words.append(setText(set.elements, proto: proto, limit: limit))
                continue
            }
            switch match {
            case .family(let family): words.append("meta nfproto \(family == .ipv4 ? "ipv4" : "ipv6")")
            case .transportProtocol(let p):
                proto = p.name
                words.append("meta l4proto \(p.name)")
            case .destinationPort(let port, let negated): words.append("\(proto) dport \(negated ? "!= " : "")\(port)")
            case .destinationPortNotIn(let ports):
                // One test per port, as the backend encodes it (no anonymous set).
                words += ports.map { "\(proto) dport != \($0)" }
            case .sourcePort(let port): words.append("\(proto) sport \(port)")
            case .inputInterface(let name): words.append("iifname \(quoted(name))")
            case .outputInterface(let name): words.append("oifname \(quoted(name))")
            case .sourceAddress(let prefix, let negated): words.append("\(prefix.isIPv4 ? "ip" : "ip6") saddr \(negated ? "!= " : "")\(prefix)")
            case .destinationAddress(let prefix, let negated): words.append("\(prefix.isIPv4 ? "ip" : "ip6") daddr \(negated ? "!= " : "")\(prefix)")
            case .socketUID(let uid, let negated): words.append("meta skuid \(negated ? "!= " : "")\(uid)")
            case .socketGID(let gid, let negated): words.append("meta skgid \(negated ? "!= " : "")\(gid)")
            case .socketGroupName(let name, let negated): words.append("meta skgid \(negated ? "!= " : "")\(name)")
            case .conntrackState(let states): words.append("ct state " + states.map(stateName).joined(separator: ","))
            case .packetMark(let mark, let negated): words.append("meta mark \(negated ? "!= " : "")\(mark)")
            case .connectionMark(let mark): words.append("ct mark \(mark)")
            }
        }
        words.append("counter")
        switch rule.action {
        case .jump(let chain): words.append("jump \(chain.nftName)")
        case .returnFromChain: words.append("return")
        case .drop: words.append("drop")
        case .redirect(let port): words.append("redirect to :\(port)")
        case .setConntrackZone(let zone): words.append("ct zone set \(zone)")
        case .accept: words.append("accept")
        case .setPacketMark(let mark): words.append("meta mark set \(mark)")
        case .transparentProxy(let port, let mark):
            let family = rule.family.map { $0 == .ipv4 ? "ip " : "ip6 " } ?? ""
            words.append("tproxy \(family)to :\(port) meta mark set \(mark) accept")
        case .saveMarkToConnection: words.append("ct mark set meta mark")
        case .restoreMarkFromConnection: words.append("meta mark set ct mark")
        }
        return words.joined(separator: " ")
    }

    /// A complete `nft -f` script creating the same tables, chains and rules the backend commits.
    public static func script(for rules: RuleSet) -> String {
        var lines: [String] = []
        let tables = NFTTables(rules)
        for table in tables.tables {
            let name = table.name
            lines.append("add table inet \(name)")
            for (chain, _) in table.chains {
                if let hook = HookChainLayout.layout(table: table.table, chain: chain) {
                    lines.append("add chain inet \(name) \(chain.nftName) { type \(hook.type) hook \(hook.hookName) priority \(hook.priority); policy accept; }")
                } else {
                    lines.append("add chain inet \(name) \(chain.nftName)")
                }
            }
            for (chain, rules) in table.chains {
                for rule in rules {
                    lines.append("add rule inet \(name) \(chain.nftName) \(text(of: rule, gateToIPv4: tables.gate(chain)))")
                }
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }

    private static func setText(_ elements: FoldedSet.Elements, proto: String, limit: Int?) -> String {
        let (head, items): (String, [String])
        switch elements {
        case .ports(let ports):
            (head, items) = ("\(proto) dport", FoldedSet.portRanges(ports).map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" })
        case .addresses(let family, let prefixes): (head, items) = (family == .ipv4 ? "ip daddr" : "ip6 daddr", prefixes.map(\.description))
        }
        var shown = items
        if let limit, items.count > limit { shown = Array(items.prefix(limit)) + ["… \(items.count - limit) more"] }
        return "\(head) { \(shown.joined(separator: ", ")) }"
    }

    private static func quoted(_ name: String) -> String {
        "\"" + (name.hasSuffix("+") ? name.dropLast() + "*" : name) + "\""
    }

    private static func stateName(_ state: ConntrackState) -> String {
        switch state {
        case .invalid: "invalid"
        case .established: "established"
        case .related: "related"
        }
    }
}
