import CLibmnl
import Glibc
import Interception

/// What CHECK found in a namespace.
public struct NamespaceInspection: Sendable {
    public let facts: NamespaceFacts
    public let inventory: NetfilterInventory
    public let tableProblems: [String]
    public let routingProblems: [String]
}

/// The outcome of programming a namespace.
public struct ApplyReport: Sendable, Equatable {
    public let tables: [String]
    public let ruleCount: Int
    public let ipv6: Bool
    /// Our tables that were already there and were replaced in the same transaction.
    public let replacedTables: [String]
}

/// The native nftables backend: one atomic netlink transaction per ADD, read-back comparison for
/// CHECK, table deletion for DEL. All netlink work happens on the namespace's own thread.
public enum NFTablesBackend {
    /// Deletes our tables; returns the ones that existed. Nothing to delete is not an error.
    public static func remove(in namespace: NetworkNamespace) throws(NFTablesError) -> [String] {
        let path = namespace.path
        return try namespace.run { () throws(NFTablesError) -> [String] in
            let socket = try NetlinkSocket(protocol: NETLINK_NETFILTER, subject: path)
            let existing = try LiveRuleset.ourTables(socket, subject: path)
            try delete(existing, on: socket, subject: path)
            return existing
        }
    }

    static func delete(_ tables: [String], on socket: NetlinkSocket, subject: String) throws(NFTablesError) {
        guard !tables.isEmpty else { return }
        let batch = NFTBatch(expectedMessages: tables.count)
        batch.begin()
        for table in tables { batch.deleteTable(table) }
        batch.end()
        try commit(batch, on: socket, subject: subject, operation: "delete tables")
    }

    /// Creates our tables (replacing any of ours already there in the same transaction).
    public static func apply(in namespace: NetworkNamespace, rules makeRules: (NamespaceFacts) -> RuleSet) throws(NFTablesError) -> ApplyReport {
        let prepared = try PreparedNamespace(in: namespace)
        return try prepared.commitNFTables(makeRules(try prepared.facts().0))
    }

    /// Compares the live ruleset with the rules ADD would write now; returns what differs.
    public static func verify(in namespace: NetworkNamespace,
                              rules makeRules: @escaping @Sendable (NamespaceFacts) -> RuleSet?) throws(NFTablesError) -> [String] {
        try inspect(in: namespace, expectingTables: true, rules: makeRules).tableProblems
    }

    /// Everything CHECK needs from a namespace, read in one pass on its thread: its facts and
    /// netfilter inventory, what differs in our tables (`expectingTables` false: any of them is a
    /// problem), and what differs in TPROXY's policy route.
    public static func inspect(in namespace: NetworkNamespace, expectingTables: Bool,
                               rules makeRules: @escaping @Sendable (NamespaceFacts) -> RuleSet?) throws(NFTablesError) -> NamespaceInspection {
        let path = namespace.path
        return try namespace.run { () throws(NFTablesError) -> NamespaceInspection in
            let socket = try NetlinkSocket(protocol: NETLINK_NETFILTER, subject: path)
            let facts = NamespaceFacts.readCurrentThread()
            let inventory = try NetfilterInventory.read(socket, subject: path)
            let rules = makeRules(facts)
            var tableProblems: [String]
            let live = try LiveRuleset.read(socket, subject: path)
            if let rules, expectingTables {
                tableProblems = RulesetComparison.problems(expected: rules, live: live)
            } else {
                let why = rules == nil ? "this pod should have no istio-cni rules" : "this node writes the rules with iptables"
                tableProblems = live.tables.keys.sorted().map { "unexpected table inet \($0) (\(why))" }
            }
            let route = try NetlinkSocket(protocol: NETLINK_ROUTE, subject: path)
            let defaults = InterceptionPolicy()
            let routingProblems = try PolicyRouting.problems(expected: rules?.transparentProxyRoute,
                                                             families: rules?.ipv6Enabled == true ? [.ipv4, .ipv6] : [.ipv4],
                                                             mark: defaults.transparentProxyMark, table: defaults.transparentProxyRouteTable,
                                                             on: route, subject: path)
            return NamespaceInspection(facts: facts, inventory: inventory, tableProblems: tableProblems, routingProblems: routingProblems)
        }
    }

    /// Removes TPROXY's policy route from a namespace (DEL); what is not there is fine.
    public static func removeRouting(_ route: TransparentProxyRoute, in namespace: NetworkNamespace) throws(NFTablesError) {
        let path = namespace.path
        try namespace.run { () throws(NFTablesError) in
            try PolicyRouting.remove(route, on: try NetlinkSocket(protocol: NETLINK_ROUTE, subject: path), subject: path)
        }
    }

    /// Names of our tables present in the namespace.
    public static func tables(in namespace: NetworkNamespace) throws(NFTablesError) -> [String] {
        let path = namespace.path
        return try namespace.run { () throws(NFTablesError) -> [String] in
            try LiveRuleset.ourTables(try NetlinkSocket(protocol: NETLINK_NETFILTER, subject: path), subject: path)
        }
    }

    /// One transaction: delete `existing` (our tables found earlier), create `rules`. Returns how
    /// many rules were written.
    @discardableResult
    static func replace(_ existing: [String], with rules: RuleSet, on socket: NetlinkSocket, subject: String) throws(NFTablesError) -> Int {
        if let name = rules.unresolvedGroupName {
            throw NFTablesError(.rejected, "commit rules", subject, detail: "owner group \"\(name)\" must be resolved to a GID for nftables")
        }
        let tables = NFTTables(rules)
        let batch = NFTBatch(expectedMessages: tables.messageCount + existing.count + 2, expectedElements: tables.elementCount)
        batch.begin()
        for table in existing { batch.deleteTable(table) }
        write(tables, into: batch)
        batch.end()
        try commit(batch, on: socket, subject: subject, operation: "commit rules")
        return tables.ruleCount
    }

    static func write(_ tables: NFTTables, into batch: NFTBatch) {
        for table in tables.tables {
            batch.addTable(table.name)
            for (chain, _) in table.chains {
                batch.addChain(table: table.name, name: chain.nftName, hook: HookChainLayout.layout(table: table.table, chain: chain))
            }
            for (chain, rules) in table.chains {
                let gate = tables.gate(chain)
                for (index, rule) in rules.enumerated() {
                    batch.addRule(table: table.name, chain: chain.nftName, rule: rule, gateToIPv4: gate,
                                  description: .rule(index: index + 1, table: table.name, chain: chain.nftName, rule: rule, gateToIPv4: gate))
                }
            }
        }
    }

    private static func commit(_ batch: NFTBatch, on socket: NetlinkSocket, subject: String, operation: String) throws(NFTablesError) {
        guard !batch.overflowed else {
            throw NFTablesError(.system, operation, subject, detail: "the transaction did not fit its buffer")
        }
        guard let last = batch.lastMessage else { return }
        socket.reserveBuffers(send: batch.length + 64 * 1024, receive: batch.messageCount * 256 + 64 * 1024)
        try socket.send(batch.bytes, length: batch.length, operation: operation)
        try socket.awaitAcknowledgement(of: last, describing: batch.describe, operation: operation)
    }
}
