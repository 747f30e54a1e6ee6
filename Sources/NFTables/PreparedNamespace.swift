import CLibmnl
import Interception

/// A pod namespace made ready for an ADD while the pod is being looked up: a thread enters it, reads
/// its facts and its netfilter inventory, opens the netlink sockets there, then ends (nothing is
/// changed). Everything after that runs from the calling thread through those sockets — a netlink
/// socket stays bound to the namespace it was opened in — or, for iptables, in a child that enters
/// the namespace itself, so no thread ever waits inside the namespace.
public final class PreparedNamespace: @unchecked Sendable {
    private struct Preparation {
        let facts: NamespaceFacts
        let inventory: NetfilterInventory
        let netfilter: NetlinkSocket
        let route: NetlinkSocket
    }

    public let namespace: NetworkNamespace
    private let prepared = ThreadOutcome<Preparation>()
    private var thread: NamespaceThread?

    public init(in namespace: NetworkNamespace) throws(NFTablesError) {
        self.namespace = namespace
        let path = namespace.path
        let prepared = prepared
        thread = try namespace.start { () throws(NFTablesError) in
            let netfilter = try NetlinkSocket(protocol: NETLINK_NETFILTER, subject: path)
            prepared.value = Preparation(facts: NamespaceFacts.readCurrentThread(),
                                         inventory: try NetfilterInventory.read(netfilter, subject: path),
                                         netfilter: netfilter, route: try NetlinkSocket(protocol: NETLINK_ROUTE, subject: path))
        }
    }

    deinit {
        try? thread?.join()
    }

    private func preparation() throws(NFTablesError) -> Preparation {
        try thread?.join()
        thread = nil
        guard let preparation = prepared.value else {
            throw NFTablesError(.system, "prepare", namespace.path, detail: "the namespace was not prepared")
        }
        return preparation
    }

    /// Waits for the preparation and returns what it found.
    public func facts() throws(NFTablesError) -> (NamespaceFacts, NetfilterInventory) {
        let preparation = try preparation()
        return (preparation.facts, preparation.inventory)
    }

    /// Writes `rules` as nftables in one transaction, replacing our tables found at preparation, after
    /// the address and policy route they need; a fresh namespace is left as it was if the batch fails.
    public func commitNFTables(_ rules: RuleSet) throws(NFTablesError) -> ApplyReport {
        let preparation = try preparation()
        let existing = preparation.inventory.ourTables
        try prepareRouting(for: rules)
        let ruleCount: Int
        do {
            ruleCount = try NFTablesBackend.replace(existing, with: rules, on: preparation.netfilter, subject: namespace.path)
        } catch {
            if existing.isEmpty, let route = rules.transparentProxyRoute {
                try? PolicyRouting.remove(route, on: preparation.route, subject: namespace.path)
            }
            throw error
        }
        return ApplyReport(tables: rules.tables.map(\.nftTableName), ruleCount: ruleCount,
                           ipv6: rules.ipv6Enabled, replacedTables: existing)
    }

    /// What any backend's rules need beside them: `::6` on lo when the pod gets IPv6 interception, and
    /// TPROXY's policy route.
    public func prepareRouting(for rules: RuleSet) throws(NFTablesError) {
        let preparation = try preparation()
        if rules.ipv6Enabled {
            try LoopbackAddress.addInboundPassthroughAddress(on: preparation.route, subject: namespace.path)
        }
        if let route = rules.transparentProxyRoute {
            try PolicyRouting.install(route, families: rules.ipv6Enabled ? [.ipv4, .ipv6] : [.ipv4],
                                      on: preparation.route, subject: namespace.path)
        }
    }

    /// Removes TPROXY's policy route (after rules that no longer need it replaced ones that did).
    public func removeRouting(_ route: TransparentProxyRoute) throws(NFTablesError) {
        try PolicyRouting.remove(route, on: try preparation().route, subject: namespace.path)
    }

    /// Deletes our nftables tables found at preparation (after the iptables backend took over).
    public func deleteOurTables() throws(NFTablesError) -> [String] {
        let preparation = try preparation()
        try NFTablesBackend.delete(preparation.inventory.ourTables, on: preparation.netfilter, subject: namespace.path)
        return preparation.inventory.ourTables
    }
}
