import CNI
import Foundation
@testable import Interception
import NFTables
import Testing
import TestSupport

@Suite struct BackendTests {
    static let plan = RedirectPlan(InterceptionPolicy())

    @Test func verifyFindsNothingAfterApplyAndNamesEachDifference() throws {
        let namespace = try TestNamespace("verify")
        let handle = try NetworkNamespace(path: namespace.path)
        _ = try NFTablesBackend.apply(in: handle) { Self.plan.rules(ipv6: $0.hasGlobalIPv6) }
        #expect(try NFTablesBackend.verify(in: handle) { Self.plan.rules(ipv6: $0.hasGlobalIPv6) } == [])

        try namespace.run(["nft", "add", "rule", "inet", "istio-proxy-nat", "istio-output", "tcp", "dport", "9999", "return"])
        try namespace.run(["nft", "add", "chain", "inet", "istio-proxy-nat", "stray"])
        try namespace.run(["nft", "add", "table", "inet", "istio-proxy-raw"])
        let problems = try NFTablesBackend.verify(in: handle) { Self.plan.rules(ipv6: $0.hasGlobalIPv6) }
        #expect(problems.contains("unexpected table inet istio-proxy-raw"))
        #expect(problems.contains("unexpected chain inet istio-proxy-nat stray"))
        #expect(problems.contains { $0.hasPrefix("chain inet istio-proxy-nat istio-output: unexpected rule [") && $0.contains("0x00000f27") })
        #expect(try NFTablesBackend.verify(in: handle) { _ in nil }.contains("unexpected table inet istio-proxy-nat (this pod should have no istio-cni rules)"))
    }

    @Test func applyReplacesExistingTablesInOneTransaction() throws {
        let namespace = try TestNamespace("replace")
        let handle = try NetworkNamespace(path: namespace.path)
        var policy = InterceptionPolicy()
        policy.captureDNS = true
        let dns = RedirectPlan(policy).rules(ipv6: false)
        let first = try NFTablesBackend.apply(in: handle) { _ in dns }
        #expect(first.replacedTables.isEmpty && first.tables == ["istio-proxy-nat", "istio-proxy-raw"])
        let second = try NFTablesBackend.apply(in: handle) { Self.plan.rules(ipv6: $0.hasGlobalIPv6) }
        #expect(second.replacedTables == ["istio-proxy-nat", "istio-proxy-raw"])
        #expect(try NFTablesBackend.tables(in: handle) == ["istio-proxy-nat"])
    }

    @Test func rejectedBatchLeavesNothingBehind() throws {
        let namespace = try TestNamespace("atomic")
        let handle = try NetworkNamespace(path: namespace.path)
        var rules = Self.plan.rules(ipv6: false)
        rules.append(.raw, .output, [], .redirect(toPort: 1))  // redirect is only valid in nat chains
        let broken = rules
        #expect {
            try NFTablesBackend.apply(in: handle) { _ in broken }
        } throws: { error in
            let description = "\(error)"
            return description.contains("kernel rejected rule 1 of chain inet istio-proxy-raw output `meta nfproto ipv4 counter redirect to :1`")
                && description.contains("nothing was applied")
        }
        #expect(try namespace.run(["nft", "list", "tables"]).stdout.isEmpty)
    }

    @Test func removeDeletesOurTablesOnlyAndIsIdempotent() throws {
        let namespace = try TestNamespace("remove")
        let handle = try NetworkNamespace(path: namespace.path)
        try namespace.run(["nft", "add", "table", "inet", "someone-else"])
        _ = try NFTablesBackend.apply(in: handle) { Self.plan.rules(ipv6: $0.hasGlobalIPv6) }
        #expect(try NFTablesBackend.remove(in: handle) == ["istio-proxy-nat"])
        #expect(try NFTablesBackend.remove(in: handle) == [])
        #expect(try namespace.run(["nft", "list", "tables"]).stdout.contains("table inet someone-else"))
    }

    @Test func refusesTheNodesOwnNamespaceAndMissingPaths() {
        #expect {
            try NetworkNamespace(path: "/proc/self/ns/net")
        } throws: { error in
            (error as? NFTablesError)?.kind == .invalidNamespace
        }
        #expect {
            try NetworkNamespace(path: "/run/netns/icni-t-absent-0")
        } throws: { error in
            (error as? NFTablesError)?.kind == .namespaceMissing
        }
    }

    @Test func checksTheLoopbackPassthroughAddressForIPv6() throws {
        let namespace = try TestNamespace("six")
        try namespace.run(["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"])
        try namespace.run(["ip", "addr", "add", "2001:db8:cafe::2/64", "dev", "v0", "nodad"])
        let report = try NFTablesBackend.apply(in: try NetworkNamespace(path: namespace.path)) { Self.plan.rules(ipv6: $0.hasGlobalIPv6) }
        #expect(report.ipv6)
        #expect(try namespace.run(["ip", "-6", "addr", "show", "dev", "lo"]).stdout.contains("inet6 ::6/128"))
    }
}
