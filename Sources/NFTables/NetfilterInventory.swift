import CLibnftnl
import Interception

/// Whose netfilter state a pod namespace holds: our `inet istio-proxy-*` tables, and Istio-style
/// iptables chains (`ISTIO_*`) written through either iptables variant. Read on the namespace thread
/// with one table dump and two one-byte procfs reads; the chain dump runs only when iptables-nft tables
/// exist, so a fresh namespace costs nothing more.
public struct NetfilterInventory: Sendable, Equatable {
    /// Our inet tables present.
    public var ourTables: [String] = []
    /// The families whose legacy xtables tables are instantiated in the namespace (`/proc/net/ip_tables_names`
    /// is not empty).
    public var legacyFamilies: Set<AddressFamily> = []
    /// `ISTIO_*` chains in the ip/ip6 tables iptables-nft keeps, per family, as "table CHAIN".
    public var nftIstioChains: [AddressFamily: [String]] = [:]

    public init(ourTables: [String] = [], legacyFamilies: Set<AddressFamily> = [], nftIstioChains: [AddressFamily: [String]] = [:]) {
        self.ourTables = ourTables
        self.legacyFamilies = legacyFamilies
        self.nftIstioChains = nftIstioChains
    }

    /// Nothing of Istio's or ours, and no legacy tables: a fresh pod namespace.
    public var isEmpty: Bool {
        ourTables.isEmpty && legacyFamilies.isEmpty && nftIstioChains.values.allSatisfy(\.isEmpty)
    }

    /// Whether the legacy tables of `family` exist at all (only then can they hold rules).
    public func hasLegacyTables(_ family: AddressFamily) -> Bool { legacyFamilies.contains(family) }

    static func read(_ socket: NetlinkSocket, subject: String) throws(NFTablesError) -> NetfilterInventory {
        var inventory = NetfilterInventory()
        for (family, file) in [(AddressFamily.ipv4, "ip_tables_names"), (.ipv6, "ip6_tables_names")]
        where ProcFile.hasContent("/proc/thread-self/net/" + file) {
            inventory.legacyFamilies.insert(family)
        }
        let ours = RuleTable.allCases.map(\.nftTableName)
        let istioTables = RuleTable.allCases.map(\.rawValue)
        var iptablesTables: Set<String> = []
        try LiveRuleset.dumpRequest(socket, NFT_MSG_GETTABLE, family: UInt16(NFPROTO_UNSPEC), operation: "list tables") { header in
            let table = nftnl_table_alloc()!
            defer { nftnl_table_free(table) }
            guard nftnl_table_nlmsg_parse(header, table) == 0,
                  let name = nftnl_table_get_str(table, attribute(NFTNL_TABLE_NAME)).map({ String(cString: $0) }) else { return }
            let family = Int32(nftnl_table_get_u32(table, attribute(NFTNL_TABLE_FAMILY)))
            if family == NFPROTO_INET, ours.contains(name) { inventory.ourTables.append(name) }
            if family == NFPROTO_IPV4 || family == NFPROTO_IPV6, istioTables.contains(name) { iptablesTables.insert("\(family) \(name)") }
        }
        inventory.ourTables.sort()
        guard !iptablesTables.isEmpty else { return inventory }
        try LiveRuleset.dumpRequest(socket, NFT_MSG_GETCHAIN, family: UInt16(NFPROTO_UNSPEC), operation: "list chains") { header in
            let chain = nftnl_chain_alloc()!
            defer { nftnl_chain_free(chain) }
            guard nftnl_chain_nlmsg_parse(header, chain) == 0,
                  let table = nftnl_chain_get_str(chain, attribute(NFTNL_CHAIN_TABLE)).map({ String(cString: $0) }),
                  let name = nftnl_chain_get_str(chain, attribute(NFTNL_CHAIN_NAME)).map({ String(cString: $0) }),
                  name.hasPrefix("ISTIO_") else { return }
            let family = Int32(nftnl_chain_get_u32(chain, attribute(NFTNL_CHAIN_FAMILY)))
            guard iptablesTables.contains("\(family) \(table)") else { return }
            inventory.nftIstioChains[family == NFPROTO_IPV4 ? .ipv4 : .ipv6, default: []].append("\(table) \(name)")
        }
        return inventory
    }
}
