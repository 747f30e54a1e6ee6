import Foundation
import JSON
import Testing
import TestSupport

/// Pod namespaces that already hold interception rules: Istio's own chains (istio-init, Istio's CNI)
/// are never doubled, reported by CHECK and left alone by DEL; our own rules from the other backend
/// are replaced, so one namespace never holds two interceptions.
@Suite struct MixedStateTests {
    static let istioInitRules = try! String(contentsOf: Paths.packageRoot.appendingPathComponent("Tests/Fixtures/default-redirect.iptables"), encoding: .utf8)

    @Test(arguments: [("legacy", Capture(.nftables)), ("nft", Capture(.iptablesNft)), ("legacy", Capture(.iptablesLegacy)), ("nft", Capture(.nftables))])
    func istioChainsSomeoneElseWroteAreNeitherDoubledNorTouched(variant: String, capture: Capture) throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let namespace = try TestNamespace("mixed")
        // What istio-init (or Istio's own CNI) leaves behind, written with its own iptables.
        try namespace.run(["iptables-\(variant)-restore", "--noflush"], stdin: Self.istioInitRules)
        let before = try namespace.run(["iptables-\(variant)-save"]).stdout.filter { !$0.isNumber }
        let config = harness.config(extra: capture.configuration)

        let add = try harness.run("ADD", netns: namespace.path, config: config)
        #expect(add.status == 1 && add.errorCode == 101, "\(add.stdout)")
        #expect(add.errorMessage.contains("already holds Istio iptables chains that istio-cni did not write (iptables-\(variant): nat ISTIO_INBOUND"),
                "\(add.errorMessage)")
        #expect(!(try namespace.run(["nft", "list", "tables"]).stdout.contains("istio-proxy")), "no second interception in nftables")
        #expect(try namespace.run(["iptables-\(variant)-save"]).stdout.filter { !$0.isNumber } == before, "theirs untouched")

        let check = try harness.run("CHECK", netns: namespace.path, config: config)
        #expect(check.status == 1 && check.errorCode == 100)
        #expect(check.errorMessage.contains("Istio iptables chains istio-cni did not write: iptables-\(variant): nat ISTIO_INBOUND"), "\(check.errorMessage)")

        #expect(try harness.run("DEL", netns: namespace.path, config: config).status == 0)
        #expect(try namespace.run(["iptables-\(variant)-save"]).stdout.filter { !$0.isNumber } == before, "DEL removes only what is ours")
    }

    @Test func switchingBackendsReplacesOurOwnRulesEachTime() throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web", annotations: ["sidecar.istio.io/interceptionMode": "TPROXY"]))
        let namespace = try TestNamespace("switch")
        // Another component's rule in a hook chain we also use stays through every change.
        try namespace.run(["iptables-nft", "-t", "nat", "-A", "OUTPUT", "-p", "udp", "--dport", "5353", "-j", "RETURN"])
        let nftables = harness.config()
        let iptables = harness.config(extra: Capture(.iptablesNft).configuration)
        let legacy = harness.config(extra: Capture(.iptablesLegacy).configuration)

        for (config, owner) in [(nftables, "nftables"), (iptables, "iptables-nft"), (legacy, "iptables-legacy"), (nftables, "nftables"), (nftables, "nftables")] {
            let add = try harness.run("ADD", netns: namespace.path, config: config)
            #expect(add.status == 0, "ADD with \(owner): \(add.stdout)")
            let check = try harness.run("CHECK", netns: namespace.path, config: config)
            #expect(check.status == 0, "CHECK with \(owner): \(check.stdout)")
            let nft = try namespace.run(["nft", "list", "tables"]).stdout
            let nftVariant = try namespace.run(["iptables-nft-save"]).stdout
            let legacyVariant = try namespace.run(["iptables-legacy-save"]).stdout
            #expect(nft.contains("istio-proxy") == (owner == "nftables"), "\(owner): \(nft)")
            #expect(nftVariant.contains("ISTIO_") == (owner == "iptables-nft"), "\(owner)")
            #expect(legacyVariant.contains("ISTIO_") == (owner == "iptables-legacy"), "\(owner)")
            #expect(nftVariant.contains("-A OUTPUT -p udp -m udp --dport 5353 -j RETURN"))
            let rules = try namespace.run(["ip", "rule"]).stdout.split(separator: "\n").filter { $0.contains("lookup 133") }
            #expect(rules.count == 1, "one TPROXY policy rule, however often ADD runs: \(rules)")
        }

        // CHECK of the iptables backend notices our tables from the nftables backend.
        #expect(try harness.run("ADD", netns: namespace.path, config: iptables).status == 0)
        try namespace.run(["nft", "add", "table", "inet", "istio-proxy-nat"])
        let check = try harness.run("CHECK", netns: namespace.path, config: iptables)
        #expect(check.errorMessage.contains("unexpected table inet istio-proxy-nat (this node writes the rules with iptables)"), "\(check.errorMessage)")

        let delete = try harness.run("DEL", netns: namespace.path, config: iptables)
        #expect(delete.status == 0)
        #expect(try Capture.holdsNoRules(namespace))
        #expect(!(try namespace.run(["iptables-nft-save"]).stdout.contains("ISTIO_")))
        #expect(try namespace.run(["iptables-nft-save"]).stdout.contains("--dport 5353 -j RETURN"), "theirs stays")
        #expect(!(try namespace.run(["ip", "rule"]).stdout.contains("lookup 133")))
    }

    /// A container ID reused for a new sandbox (or a record left behind when DEL never came) speaks
    /// about another namespace: its ownership must not turn istio-init's chains here into "ours".
    @Test func aRecordForAnotherNamespaceClaimsNothingHere() throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let config = harness.config(extra: Capture(.iptablesNft).configuration)
        let earlier = try TestNamespace("earlier")
        #expect(try harness.run("ADD", netns: earlier.path, config: config).status == 0)

        let current = try TestNamespace("current")
        try current.run(["iptables-nft-restore", "--noflush"], stdin: Self.istioInitRules)
        let before = try current.run(["iptables-nft-save"]).stdout.filter { !$0.isNumber }
        let add = try harness.run("ADD", netns: current.path, config: config)
        #expect(add.status == 1 && add.errorCode == 101, "\(add.stdout)")
        #expect(try harness.run("DEL", netns: current.path, config: config).status == 0)
        #expect(try current.run(["iptables-nft-save"]).stdout.filter { !$0.isNumber } == before, "istio-init's chains untouched")
        #expect(try earlier.run(["iptables-nft-save"]).stdout.contains("ISTIO_OUTPUT"), "the other namespace keeps its rules")
    }

    /// IPv4 goes in first; when IPv6 then fails (here: `ip6 nat`/`ip6 mangle` tables some other tool made
    /// with chains iptables cannot use), the IPv4 rules and a TPROXY route this ADD added are taken out
    /// again, and the error names the tool.
    @Test(arguments: ["REDIRECT", "TPROXY"])
    func aFailedIPTablesWriteLeavesNothingBehind(mode: String) throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web", annotations: ["sidecar.istio.io/interceptionMode": mode],
                                               proxyEnvironment: ["ISTIO_DUAL_STACK": "true"]))
        let network = try PodNetwork(ipv6: true)
        try network.pod.run(["nft", "add table ip6 nat; add chain ip6 nat PREROUTING { type filter hook prerouting priority 0; }; "
                             + "add table ip6 mangle; add chain ip6 mangle PREROUTING { type filter hook prerouting priority 0; }"])
        let config = harness.config(extra: Capture(.iptablesNft).configuration)

        let add = try harness.run("ADD", netns: network.pod.path, config: config)
        #expect(add.status == 1 && add.errorCode == 5, "\(add.stdout)")
        #expect(add.errorMessage.contains("programming the redirect rules with iptables failed: /usr/sbin/ip6tables-nft-restore --noflush failed"),
                "\(add.errorMessage)")
        #expect(!(try network.pod.run(["iptables-nft-save"]).stdout.contains("ISTIO_")), "the IPv4 rules were taken back")
        #expect(!(try network.pod.run(["ip", "rule"]).stdout.contains("lookup 133")), "no TPROXY policy rule left")
        #expect(!(try network.pod.run(["ip", "-6", "rule"]).stdout.contains("lookup 133")), "no IPv6 TPROXY policy rule left")
        #expect(!FileManager.default.fileExists(atPath: harness.runDirectory.appendingPathComponent("sandboxes/0123456789abcdef.json").path))
    }
}
