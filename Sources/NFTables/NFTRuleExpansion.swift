import Interception

extension RuleSet {
    /// The nftables rules of one chain: the merged IR rules, except that a TPROXY rule is followed by
    /// the same matches with `drop`. iptables' TPROXY target drops a packet no transparent socket
    /// takes; nft's `tproxy` statement instead ends the rule and lets the packet go on, which would
    /// deliver it to the app past the proxy whenever the proxy is not listening.
    ///
    /// INVALID_DROP's rule matches invalid TCP only, as Istio's native nftables rules do (`meta l4proto
    /// tcp ct state invalid jump istio-drop`); Istio's iptables rules, which the IR follows, match
    /// every protocol.
    ///
    /// A long list's rules become set lookups (`NFTRuleFolding`).
    func nftRules(_ table: RuleTable, _ chain: Chain) -> [NFTRule] {
        nftRules(of: entries.filter { $0.table == table && $0.chain == chain })
    }

    /// The same for one chain's entries (from `entriesByChain`).
    func nftRules(of chainEntries: [Entry]) -> [NFTRule] {
        var rules: [NFTRule] = []
        for content in mergedContent(of: chainEntries) {
            switch content {
            case .repeated(let repeated):
                rules += NFTRuleFolding.rules(for: repeated)
            case .rule(let rule):
                if rule.action == .jump(.istioDrop), rule.matches == [.conntrackState([.invalid])] {
                    rules.append(NFTRule(Rule([.transportProtocol(.tcp)] + rule.matches, rule.action)))
                    continue
                }
                rules.append(NFTRule(rule))
                if case .transparentProxy = rule.action { rules.append(NFTRule(Rule(rule.matches, .drop))) }
            }
        }
        return rules
    }
}

/// Our tables as the nftables backend writes them, each chain's rules computed once (folding a long
/// list is not free, and the batch is sized from the result).
struct NFTTables {
    struct Table {
        let table: RuleTable
        let chains: [(chain: Chain, rules: [NFTRule])]
        var name: String { table.nftTableName }
    }

    let tables: [Table]
    /// An IPv4-only pod: hook-chain rules match IPv4 only, so IPv6 traffic is left alone.
    let gatesHooksToIPv4: Bool

    init(_ rules: RuleSet) {
        let byChain = rules.entriesByChain()
        tables = rules.tables.map { table in
            Table(table: table, chains: rules.chains(in: table).map { chain in
                (chain, rules.nftRules(of: byChain[TableChain(table: table, chain: chain)] ?? []))
            })
        }
        gatesHooksToIPv4 = !rules.ipv6Enabled
    }

    func gate(_ chain: Chain) -> Bool { chain.isHook && gatesHooksToIPv4 }

    var ruleCount: Int { tables.reduce(0) { $0 + $1.chains.reduce(0) { $0 + $1.rules.count } } }

    private var sets: [FoldedSet] { tables.flatMap { $0.chains.flatMap { $0.rules.compactMap(\.set) } } }

    /// Elements of every anonymous set.
    var elementCount: Int { sets.reduce(0) { $0 + $1.encoding.count } }

    /// Messages of the transaction: tables, chains, rules, and each set's NEWSET and element messages.
    var messageCount: Int {
        tables.reduce(0) { $0 + 1 + $1.chains.count } + ruleCount
            + sets.reduce(0) { $0 + 2 + $1.encoding.count / NFTBatch.elementsPerMessage }
    }
}
