import CLibmnl
import Interception

/// An ADD split in two so the namespace work overlaps the pod lookup. `init` starts a thread that
/// enters the namespace, reads its facts, opens the netlink sockets there and lists our tables, then
/// ends (nothing is changed). `commit` writes the rules through those sockets from the calling
/// thread: a netlink socket stays bound to the namespace it was opened in, so no thread has to wait
/// inside the namespace for the pod lookup.
public final class PreparedApply: @unchecked Sendable {
    private struct Preparation {
        let facts: NamespaceFacts
        let netfilter: NetlinkSocket
        /// For adding ::6 to lo; opened only when the namespace has IPv6.
        let route: NetlinkSocket?
        let existingTables: [String]
    }

    private let path: String
    private let prepared = ThreadOutcome<Preparation>()
    private var thread: NamespaceThread?

    public init(in namespace: NetworkNamespace) throws(NFTablesError) {
        path = namespace.path
        let path = namespace.path
        let prepared = prepared
        thread = try namespace.start { () throws(NFTablesError) in
            let facts = NamespaceFacts.readCurrentThread()
            let netfilter = try NetlinkSocket(protocol: NETLINK_NETFILTER, subject: path)
            let route = facts.hasGlobalIPv6 ? try NetlinkSocket(protocol: NETLINK_ROUTE, subject: path) : nil
            prepared.value = Preparation(facts: facts, netfilter: netfilter, route: route,
                                         existingTables: try LiveRuleset.ourTables(netfilter, subject: path))
        }
    }

    deinit {
        try? thread?.join()
    }

    /// Writes the rules in one transaction (replacing any of our tables already there).
    public func commit(rules makeRules: (NamespaceFacts) -> RuleSet) throws(NFTablesError) -> ApplyReport {
        try thread?.join()
        thread = nil
        guard let preparation = prepared.value else {
            throw NFTablesError(.system, "commit rules", path, detail: "the namespace was not prepared")
        }
        let rules = makeRules(preparation.facts)
        if let route = preparation.route { try LoopbackAddress.addInboundPassthroughAddress(on: route, subject: path) }
        try NFTablesBackend.replace(preparation.existingTables, with: rules, on: preparation.netfilter, subject: path)
        return ApplyReport(tables: rules.tables.map(\.nftTableName), ruleCount: rules.mergedRuleCount,
                           ipv6: preparation.facts.hasGlobalIPv6, replacedTables: preparation.existingTables)
    }
}
