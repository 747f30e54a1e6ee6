import CNI
import Interception
import IPTables
import Testing
import TestSupport

/// The iptables tools as the oracle for our iptables text: Istio's restore input, loaded with each
/// variant into a fresh namespace, must read back (`-save`) exactly as `IPTablesSaveForm` predicts;
/// the replacement and removal scripts must leave exactly the new rules, or nothing.
@Suite(.serialized) struct KernelRoundTripTests {
    static func rules(_ configure: (inout InterceptionPolicy) -> Void) -> RuleSet {
        var policy = InterceptionPolicy()
        configure(&policy)
        return RedirectPlan(policy).rules(ipv6: true)
    }

    func save(_ namespace: TestNamespace, _ variant: String, _ family: AddressFamily) throws -> IPTablesSnapshot {
        let tool = (family == .ipv4 ? "iptables-" : "ip6tables-") + variant + "-save"
        return IPTablesSnapshot(parsing: try namespace.run([tool]).stdout)
    }

    func restore(_ namespace: TestNamespace, _ variant: String, _ family: AddressFamily, _ script: String) throws {
        try namespace.run([(family == .ipv4 ? "iptables-" : "ip6tables-") + variant + "-restore", "--noflush"], stdin: script)
    }

    @Test(arguments: ["legacy", "nft"])
    func restoredRulesReadBackInThePredictedForm(variant: String) throws {
        for (name, configure) in PolicyVariety.all {
            let rules = Self.rules(configure)
            let namespace = try TestNamespace("ipt")
            defer { namespace.delete() }
            for family in [AddressFamily.ipv4, .ipv6] {
                try restore(namespace, variant, family, IPTablesRestoreRenderer.render(rules, family: family))
                let live = try save(namespace, variant, family)
                #expect(IPTablesComparison.problems(expected: rules, family: family, live: live, tool: variant) == [], "\(name) \(family)")
            }
        }
    }

    @Test(arguments: ["legacy", "nft"])
    func replacementLeavesOnlyTheNewRulesAndRemovalLeavesNone(variant: String) throws {
        let namespace = try TestNamespace("iptr")
        defer { namespace.delete() }
        let first = Self.rules { $0.mode = .tproxy; $0.captureDNS = true; $0.dropInvalid = true; $0.excludeInterfaces = ["eth1"] }
        let second = Self.rules { $0.outboundPortsExclude = [9999] }
        // Someone else's rule in a hook chain we use must survive both.
        try restore(namespace, variant, .ipv4, "*nat\n-A OUTPUT -p udp --dport 5353 -j RETURN\nCOMMIT\n")
        try restore(namespace, variant, .ipv4, IPTablesRestoreRenderer.render(first, family: .ipv4))
        let owned = Set(IPTablesScript.hookRules(first, family: .ipv4))
        let replace = IPTablesScript.replacing(live: try save(namespace, variant, .ipv4), ownedHookRules: owned, with: second, family: .ipv4)
        try restore(namespace, variant, .ipv4, replace)
        var live = try save(namespace, variant, .ipv4)
        #expect(IPTablesComparison.problems(expected: second, family: .ipv4, live: live, tool: variant) == [])
        #expect(live.tables["nat"]?.rules(in: "OUTPUT").first == "-p udp -m udp --dport 5353 -j RETURN")
        #expect(live.tables["mangle"].map { $0.chains.filter(IPTablesNames.isIstioChain) } ?? [] == [])
        #expect(live.tables["mangle"]?.rules.values.allSatisfy(\.isEmpty) ?? true, "the TPROXY marks and the interface exclusions are gone")

        let removal = IPTablesScript.replacing(live: live, ownedHookRules: Set(IPTablesScript.hookRules(second, family: .ipv4)), with: nil, family: .ipv4)
        try restore(namespace, variant, .ipv4, removal)
        live = try save(namespace, variant, .ipv4)
        #expect(live.istioChains == [] && live.jumpsIntoIstioChains == [])
        #expect(live.tables["nat"]?.rules(in: "OUTPUT") == ["-p udp -m udp --dport 5353 -j RETURN"])
    }
}
