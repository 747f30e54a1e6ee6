import IPTables
import Interception
import NFTables

/// A pod's rules in its namespace, with either backend: written at ADD (and by the agent's repair),
/// checked at CHECK, removed at DEL. Istio chains istio-cni did not write (istio-init, Istio's own CNI)
/// are never touched and never doubled: ADD refuses, CHECK reports them, DEL leaves them.
public struct PodRules: Sendable {
    public struct Report: Sendable {
        /// "nftables istio-proxy-nat,istio-proxy-raw" or "iptables-nft nat,raw".
        public let written: String
        public let ruleCount: Int
        public let ipv6: Bool
        public let replaced: [String]
        public let record: RecordUpdate
    }

    /// What the sandbox record must say about the namespace's rules.
    public struct RecordUpdate: Sendable {
        public let iptables: IPTablesOwnership?
        public let transparentProxyRoute: Bool
    }

    let backend: RuleBackend
    let search: ExecutableSearch

    public init(backend: RuleBackend, searchPath: String?) {
        self.backend = backend
        search = ExecutableSearch(path: searchPath)
    }

    /// The rules this backend writes for `policy`. nftables needs every owner group as a GID; iptables
    /// gets the names as Istio passes them (iptables resolves them itself), but a name the node does not
    /// know fails here, before anything is written, rather than halfway through a restore.
    public func plan(for policy: InterceptionPolicy, groups: some GroupDirectory = SystemGroups()) throws(InterceptionError) -> RedirectPlan {
        let resolved = try policy.resolvingGroupNames(in: groups)
        return RedirectPlan(backend == .nftables ? resolved : policy)
    }

    /// The rules CHECK compares the namespace with: the kernel holds GIDs, whatever the backend wrote.
    public func comparisonPlan(for policy: InterceptionPolicy, groups: some GroupDirectory = SystemGroups()) throws(InterceptionError) -> RedirectPlan {
        RedirectPlan(try policy.resolvingGroupNames(in: groups))
    }

    /// Writes `plan`'s rules. `previousRecord` reads what the sandbox record said before (nil for a new
    /// sandbox); a fresh namespace has nothing it could speak about, so it is only read when the
    /// namespace holds netfilter state. `recordIntent` is called with the new record's content and the
    /// previous record before iptables rules or a TPROXY route are written, so a killed ADD, or a DEL
    /// racing this ADD, still finds them owned.
    public func apply(_ plan: RedirectPlan, prepared: PreparedNamespace, previousRecord: () -> SandboxRecord?,
                      recordIntent: (RecordUpdate, SandboxRecord?) -> Void) throws(PodRulesFailure) -> Report {
        let (facts, inventory) = try namespaceCall { () throws(NFTablesError) in try prepared.facts() }
        let previous = inventory.isEmpty ? nil : previousRecord()
        let rules = plan.rules(ipv6: facts.ipv6Interception(dualStack: plan.policy.dualStack))
        let iptables = IPTablesPodRules(runner: IPTablesRunner(namespace: prepared.namespace, search: search), forced: forcedVariant)
        let state = try IPTablesState.discover(inventory, runner: iptables.runner)
        let foreign = state.foreignChains(ownedBy: previous?.iptables)
        guard foreign.isEmpty else {
            throw .foreign("the pod's network namespace already holds Istio iptables chains that istio-cni did not write ("
                           + foreign.joined(separator: "; ") + "), from istio-init or another Istio CNI; refusing to add a second interception")
        }
        let route = rules.transparentProxyRoute != nil
        let report: Report
        switch backend {
        case .nftables:
            if route {
                // The policy route is not in our tables: a DEL that lands between the commit and the
                // final record must already find it claimed.
                recordIntent(RecordUpdate(iptables: previous?.iptables, transparentProxyRoute: true), previous)
            }
            let applied = try namespaceCall { () throws(NFTablesError) in try prepared.commitNFTables(rules) }
            if let old = previous?.iptables { try iptables.remove(old) }
            report = Report(written: "nftables \(applied.tables.joined(separator: ","))", ruleCount: applied.ruleCount, ipv6: applied.ipv6,
                            replaced: applied.replacedTables + (previous?.iptables == nil ? [] : ["iptables"]),
                            record: RecordUpdate(iptables: nil, transparentProxyRoute: route))
        case .iptables:
            let (ownership, tools) = try iptables.plan(rules, state: state)
            let update = RecordUpdate(iptables: ownership, transparentProxyRoute: route || previous?.transparentProxyRoute == true)
            recordIntent(update, previous)
            try namespaceCall { () throws(NFTablesError) in try prepared.prepareRouting(for: rules) }
            let count: Int
            do {
                count = try iptables.write(rules, tools: tools, ownership: ownership, previous: previous?.iptables, state: state)
            } catch {
                // The rules were taken back; a route this ADD added must not outlive them.
                if let added = rules.transparentProxyRoute, previous?.transparentProxyRoute != true { try? prepared.removeRouting(added) }
                throw error
            }
            if let old = previous?.iptables { try iptables.remove(old, except: tools) }
            let removedTables = try namespaceCall { () throws(NFTablesError) in try prepared.deleteOurTables() }
            let variant = tools.first.map { $0.variant == .plain ? "iptables" : "iptables-\($0.variant.rawValue)" } ?? "iptables"
            report = Report(written: "\(variant) \(rules.tables(for: .ipv4).map(\.rawValue).joined(separator: ","))", ruleCount: count,
                            ipv6: rules.ipv6Enabled, replaced: removedTables + (state.snapshots.isEmpty ? [] : ["iptables"]),
                            record: RecordUpdate(iptables: ownership, transparentProxyRoute: route))
        }
        if !route, previous?.transparentProxyRoute == true {
            try namespaceCall { () throws(NFTablesError) in try prepared.removeRouting(RedirectPlan.defaultRoute) }
        }
        return report
    }

    /// What differs from what ADD would write now (`plan` nil: the pod should have no rules).
    public func problems(_ plan: RedirectPlan?, namespace: NetworkNamespace, record: SandboxRecord?) throws(PodRulesFailure) -> [String] {
        let expectingTables = backend == .nftables
        let inspection = try namespaceCall { () throws(NFTablesError) in
            try NFTablesBackend.inspect(in: namespace, expectingTables: expectingTables) { facts in plan?.rules(ipv6: facts.ipv6Interception(dualStack: plan?.policy.dualStack == true)) }
        }
        let iptables = IPTablesPodRules(runner: IPTablesRunner(namespace: namespace, search: search), forced: forcedVariant)
        let state = try IPTablesState.discover(inspection.inventory, runner: iptables.runner)
        var problems = state.foreignChains(ownedBy: record?.iptables).map { "Istio iptables chains istio-cni did not write: \($0)" }
        problems += inspection.tableProblems
        switch backend {
        case .nftables:
            if let old = record?.iptables {
                problems += old.families.keys.sorted { $0 == .ipv4 && $1 == .ipv6 }.flatMap { family in
                    (state.snapshot(family, old.families[family]!.variant)?.istioChains ?? []).map { "leftover iptables chain \($0) from the iptables backend" }
                }
            }
        case .iptables:
            let ipv6 = inspection.facts.ipv6Interception(dualStack: plan?.policy.dualStack == true)
            problems += try iptables.problems(plan?.rules(ipv6: ipv6), ipv6: ipv6, state: state, ownership: record?.iptables)
        }
        return problems + inspection.routingProblems
    }

    /// Removes what is ours: our nftables tables, the iptables rules the record says we wrote, and
    /// TPROXY's route if we added it. Returns what was removed.
    public func remove(namespace: NetworkNamespace, record: SandboxRecord?) throws(PodRulesFailure) -> [String] {
        // Each part is removed even when another fails; the first failure is reported afterwards.
        var removed: [String] = []
        var failures: [PodRulesFailure] = []
        do {
            removed += try namespaceCall { () throws(NFTablesError) in try NFTablesBackend.remove(in: namespace) }
        } catch {
            failures.append(error)
        }
        if let owned = record?.iptables {
            do {
                try IPTablesPodRules(runner: IPTablesRunner(namespace: namespace, search: search), forced: nil).remove(owned)
                removed.append("iptables chains")
            } catch {
                failures.append(error)
            }
        }
        if record?.transparentProxyRoute == true {
            do {
                try namespaceCall { () throws(NFTablesError) in try NFTablesBackend.removeRouting(RedirectPlan.defaultRoute, in: namespace) }
                removed.append("TPROXY route")
            } catch {
                failures.append(error)
            }
        }
        if let first = failures.first { throw first }
        return removed
    }

    private var forcedVariant: IPTablesVariant? {
        if case .iptables(let forced) = backend { return forced }
        return nil
    }

    private func namespaceCall<T>(_ body: () throws(NFTablesError) -> T) throws(PodRulesFailure) -> T {
        do { return try body() } catch { throw .namespace(error) }
    }
}
