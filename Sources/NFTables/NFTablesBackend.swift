import CLibmnl
import Glibc
import Interception

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
    /// Creates our tables in the namespace; if any of our tables exist already they are deleted in the
    /// same transaction, so the namespace never holds a mix of old and new rules.
    public static func apply(in namespace: NetworkNamespace,
                             rules makeRules: @escaping @Sendable (NamespaceFacts) -> RuleSet) throws(NFTablesError) -> ApplyReport {
        try PreparedApply(in: namespace).commit(rules: makeRules)
    }

    /// Deletes our tables; returns the ones that existed. Nothing to delete is not an error.
    public static func remove(in namespace: NetworkNamespace) throws(NFTablesError) -> [String] {
        let path = namespace.path
        return try namespace.run { () throws(NFTablesError) -> [String] in
            let socket = try NetlinkSocket(protocol: NETLINK_NETFILTER, subject: path)
            let existing = try LiveRuleset.ourTables(socket, subject: path)
            guard !existing.isEmpty else { return [] }
            let batch = NFTBatch(expectedMessages: existing.count)
            batch.begin()
            for table in existing { batch.deleteTable(table) }
            batch.end()
            try commit(batch, on: socket, subject: path, operation: "delete tables")
            return existing
        }
    }

    /// Compares the live ruleset with the rules ADD would write now; returns what differs.
    public static func verify(in namespace: NetworkNamespace,
                              rules makeRules: @escaping @Sendable (NamespaceFacts) -> RuleSet?) throws(NFTablesError) -> [String] {
        let path = namespace.path
        return try namespace.run { () throws(NFTablesError) -> [String] in
            let socket = try NetlinkSocket(protocol: NETLINK_NETFILTER, subject: path)
            let live = try LiveRuleset.read(socket, subject: path)
            guard let rules = makeRules(NamespaceFacts.readCurrentThread()) else {
                return live.tables.keys.sorted().map { "unexpected table inet \($0) (this pod should have no istio-cni rules)" }
            }
            return RulesetComparison.problems(expected: rules, live: live)
        }
    }

    /// Names of our tables present in the namespace.
    public static func tables(in namespace: NetworkNamespace) throws(NFTablesError) -> [String] {
        let path = namespace.path
        return try namespace.run { () throws(NFTablesError) -> [String] in
            try LiveRuleset.ourTables(try NetlinkSocket(protocol: NETLINK_NETFILTER, subject: path), subject: path)
        }
    }

    /// One transaction: delete `existing` (our tables found earlier), create `rules`.
    static func replace(_ existing: [String], with rules: RuleSet, on socket: NetlinkSocket, subject: String) throws(NFTablesError) {
        let batch = NFTBatch(expectedMessages: rules.operations.count + existing.count + 32)
        batch.begin()
        for table in existing { batch.deleteTable(table) }
        write(rules, into: batch)
        batch.end()
        try commit(batch, on: socket, subject: subject, operation: "commit rules")
    }

    static func write(_ rules: RuleSet, into batch: NFTBatch) {
        for table in rules.tables {
            let name = table.nftTableName
            let chains = rules.chains(in: table)
            batch.addTable(name)
            for chain in chains {
                batch.addChain(table: name, name: chain.nftName, hook: HookChainLayout.layout(table: table, chain: chain))
            }
            for chain in chains {
                let gate = chain.isHook && !rules.ipv6Enabled
                for (index, rule) in rules.mergedRules(table, chain).enumerated() {
                    batch.addRule(table: name, chain: chain.nftName, rule: rule, gateToIPv4: gate,
                                  description: .rule(index: index + 1, table: name, chain: chain.nftName, rule: rule, gateToIPv4: gate))
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
