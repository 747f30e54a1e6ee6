import CNI
import Foundation
import Interception
import NFTables
import Testing
import TestSupport

/// Our netlink batches against the `nft` tool as an oracle: the same rules, once committed by us and
/// once loaded with `nft -f`, must list identically.
@Suite struct KernelOracleTests {
    static func withoutCounters(_ listing: String) -> String {
        listing.split(separator: "\n").map { line in
            line.replacingOccurrences(of: #"counter packets \d+ bytes \d+"#, with: "counter", options: .regularExpression)
        }.joined(separator: "\n")
    }

    static let policies: [(String, @Sendable (inout InterceptionPolicy) -> Void)] = [
        ("default", { _ in }),
        ("drop-invalid", { $0.dropInvalid = true }),
        ("ports", { $0.inboundPortsInclude = .ports([8080, 9090]); $0.outboundPortsInclude = [7070]; $0.outboundPortsExclude = [5555] }),
        ("ranges", {
            $0.outboundIPRangesInclude = .ranges([IPPrefix("192.0.2.0/24")!, IPPrefix("10.16.0.0/12")!, IPPrefix("2001:db8::/48")!])
            $0.outboundIPRangesExclude = [IPPrefix("198.51.100.7/32")!, IPPrefix("2001:db8:1::/64")!]
        }),
        ("interfaces", { $0.excludeInterfaces = ["eth1", "tun+"]; $0.rerouteInterfaces = ["k6t-eth0"] }),
        ("identity", { $0.proxyUID = 1_000_670_000; $0.proxyGID = 1_000_670_001; $0.ownerGroups = .only([10, 20]) }),
    ]

    @Test(arguments: [false, true])
    func batchesListLikeNftScripts(ipv6: Bool) throws {
        for (name, configure) in Self.policies {
            var policy = InterceptionPolicy()
            configure(&policy)
            let rules = try RedirectPlan(policy).rules(ipv6: ipv6)
            let ours = try TestNamespace("ours")
            let theirs = try TestNamespace("nft")
            if ipv6 {
                try ours.run(["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"])
                try ours.run(["ip", "addr", "add", "2001:db8:cafe::2/64", "dev", "v0", "nodad"])
            }
            let report = try NFTablesBackend.apply(in: try NetworkNamespace(path: ours.path)) { _ in rules }
            #expect(report.ipv6 == ipv6)
            try theirs.run(["nft", "-f", "-"], stdin: NFTRuleText.script(for: rules))
            let ourListing = Self.withoutCounters(try ours.run(["nft", "list", "ruleset"]).stdout)
            let theirListing = Self.withoutCounters(try theirs.run(["nft", "list", "ruleset"]).stdout)
            #expect(ourListing == theirListing, "policy \(name), ipv6 \(ipv6)")
            ours.delete()
            theirs.delete()
        }
    }
}
