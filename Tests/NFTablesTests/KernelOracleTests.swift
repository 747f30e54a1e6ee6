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

    @Test(arguments: [false, true])
    func batchesListLikeNftScripts(ipv6: Bool) throws {
        for (name, configure) in PolicyVariety.all {
            var policy = InterceptionPolicy()
            configure(&policy)
            let rules = RedirectPlan(policy).rules(ipv6: ipv6)
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
