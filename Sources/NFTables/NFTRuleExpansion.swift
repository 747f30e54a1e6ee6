import Interception

extension RuleSet {
    /// The nftables rules of one chain: the merged IR rules, except that a TPROXY rule is followed by
    /// the same matches with `drop`. iptables' TPROXY target drops a packet no transparent socket
    /// takes; nft's `tproxy` statement instead ends the rule and lets the packet go on, which would
    /// deliver it to the app past the proxy whenever the proxy is not listening.
    func nftRules(_ table: RuleTable, _ chain: Chain) -> [Rule] {
        mergedRules(table, chain).flatMap { rule -> [Rule] in
            guard case .transparentProxy = rule.action else { return [rule] }
            return [rule, Rule(rule.matches, .drop)]
        }
    }

    /// How many rules the nftables backend writes.
    var nftRuleCount: Int {
        tables.reduce(0) { total, table in
            total + chains(in: table).reduce(0) { $0 + nftRules(table, $1).count }
        }
    }
}
