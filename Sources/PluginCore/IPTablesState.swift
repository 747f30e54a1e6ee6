import IPTables
import Interception
import NFTables

/// Why writing, checking or removing a pod's rules failed.
public enum PodRulesFailure: Error, Sendable, CustomStringConvertible {
    /// The namespace or netlink failed.
    case namespace(NFTablesError)
    /// Istio chains that istio-cni did not write are in the namespace.
    case foreign(String)
    /// An iptables tool was missing or failed.
    case tool(String)

    public var description: String {
        switch self {
        case .namespace(let error): error.description
        case .foreign(let text), .tool(let text): text
        }
    }
}

/// The Istio iptables chains a pod namespace holds, per family and variant, read with `-save` only
/// where the inventory says there can be some (so a fresh namespace runs no tool at all).
struct IPTablesState {
    private(set) var snapshots: [AddressFamily: [IPTablesVariant: IPTablesSnapshot]] = [:]

    static func discover(_ inventory: NetfilterInventory, runner: IPTablesRunner) throws(PodRulesFailure) -> IPTablesState {
        var state = IPTablesState()
        for family in [AddressFamily.ipv4, .ipv6] {
            let nftChains = inventory.nftIstioChains[family] ?? []
            if inventory.hasLegacyTables(family) {
                if let tool = try? runner.choose(family, forced: .legacy, legacyHoldsRules: true) {
                    state.snapshots[family, default: [:]][.legacy] = try runner.save(tool)
                }
            }
            if !nftChains.isEmpty {
                // Without an iptables-nft on the node (istio-init brought its own), the chain names
                // the netlink inventory found are all there is to know.
                let tool = try? runner.choose(family, forced: .nft, legacyHoldsRules: false)
                state.snapshots[family, default: [:]][.nft] = try tool.map(runner.save) ?? Self.snapshot(naming: nftChains)
            }
        }
        return state
    }

    func snapshot(_ family: AddressFamily, _ variant: IPTablesVariant) -> IPTablesSnapshot? {
        snapshots[family]?[variant]
    }

    /// Whether legacy iptables already holds any rule in `family` (Istio then keeps using legacy).
    func legacyHoldsRules(_ family: AddressFamily) -> Bool {
        snapshot(family, .legacy)?.tables.values.contains { !$0.rules.isEmpty } ?? false
    }

    /// Istio chains not covered by `ownership`, described per tool ("iptables-legacy: nat ISTIO_OUTPUT, …").
    func foreignChains(ownedBy ownership: IPTablesOwnership?) -> [String] {
        var found: [String] = []
        for family in [AddressFamily.ipv4, .ipv6] {
            for variant in [IPTablesVariant.legacy, .nft] {
                guard let chains = snapshot(family, variant)?.istioChains, !chains.isEmpty else { continue }
                let owner = ownership?.families[family]?.variant
                if owner == variant || owner == .plain { continue }
                let tool = (family == .ipv4 ? "iptables-" : "ip6tables-") + variant.rawValue
                found.append("\(tool): \(chains.joined(separator: ", "))")
            }
        }
        return found
    }

    private static func snapshot(naming chains: [String]) -> IPTablesSnapshot {
        var snapshot = IPTablesSnapshot()
        for entry in chains {
            let parts = entry.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            snapshot.tables[parts[0], default: IPTablesSnapshot.Table()].chains.append(parts[1])
        }
        return snapshot
    }
}
