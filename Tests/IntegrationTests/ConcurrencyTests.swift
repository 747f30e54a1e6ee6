import Foundation
import JSON
import Testing
import TestSupport

/// Many pods at once on a 2-core node, and a DEL racing the ADD of the same sandbox: every namespace
/// ends with exactly its own rules, or none.
@Suite(.serialized) struct ConcurrencyTests {
    /// Runs every job on its own thread at once (not a pool sized to the cores), and waits for all.
    static func simultaneously<T: Sendable>(_ jobs: [@Sendable () -> T]) -> [T] {
        let results = ResultSlots<T>(count: jobs.count)
        let group = DispatchGroup()
        for (index, job) in jobs.enumerated() {
            group.enter()
            Thread {
                results.set(index, job())
                group.leave()
            }.start()
        }
        group.wait()
        return results.values
    }

    /// The listing with counters and volatile numbers taken out, for comparing rule sets.
    static func rulesOnly(_ listing: String) -> String {
        listing.split(separator: "\n")
            .filter { !$0.hasPrefix("#") }
            .map { $0.replacingOccurrences(of: #"(counter packets \d+ bytes \d+|\[\d+:\d+\])"#, with: "", options: .regularExpression) }
            .joined(separator: "\n")
    }

    @Test(arguments: [Capture(.nftables), Capture(.iptablesNft)])
    func fiftyParallelADDsEachGetTheirOwnRules(capture: Capture) throws {
        let harness = try PluginHarness()
        let count = 50
        // Each pod excludes its own inbound port, so a namespace holding another pod's rules shows.
        for index in 0..<count {
            try harness.addPod(PodFixtures.meshPod(name: "web-\(index)", annotations: ["traffic.sidecar.istio.io/excludeInboundPorts": "\(20000 + index)"]))
        }
        let namespaces = try (0..<count).map { _ in try TestNamespace("par") }
        defer { namespaces.forEach { $0.delete() } }
        let config = harness.config(extra: capture.configuration)

        let outcomes = Self.simultaneously((0..<count).map { index in
            { @Sendable in
                Result { try harness.run("ADD", netns: namespaces[index].path, pod: "web-\(index)", containerID: "parallel\(index)", config: config) }
            }
        })
        for (index, outcome) in outcomes.enumerated() {
            let result = try outcome.get()
            #expect(result.status == 0, "ADD \(index): \(result.stdout) \(result.stderr)")
        }
        for (index, namespace) in namespaces.enumerated() {
            let check = try harness.run("CHECK", netns: namespace.path, pod: "web-\(index)", containerID: "parallel\(index)", config: config)
            #expect(check.status == 0, "CHECK \(index): \(check.errorMessage)")
            let listing = try capture.listing(namespace)
            #expect(listing.contains("\(20000 + index)"), "namespace \(index) holds its own exclusion")
            #expect(!listing.contains(String(20000 + (index + 1) % count)), "namespace \(index) holds only its own rules")
        }
        let records = try FileManager.default.contentsOfDirectory(atPath: harness.runDirectory.appendingPathComponent("sandboxes").path)
        #expect(records.filter { $0.hasSuffix(".json") }.count == count, "one sandbox record per ADD: \(records.sorted())")
        #expect(records.allSatisfy { $0.hasSuffix(".json") || $0.hasSuffix(".lock") }, "no temp files left: \(records.sorted())")
    }

    /// ADD and DEL of one sandbox started together, many times: afterwards the namespace holds the
    /// whole rule set (DEL ran first) or nothing (ADD ran first) — never a part of it.
    @Test(arguments: [Capture(.nftables), Capture(.iptablesNft), Capture(.nftables, transparent: true)])
    func addRacingDeleteLeavesAllOrNothing(capture: Capture) throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web", annotations: capture.annotations))
        let config = harness.config(extra: capture.configuration)
        let reference = try TestNamespace("ref")
        defer { reference.delete() }
        #expect(try harness.run("ADD", netns: reference.path, containerID: "reference", config: config).status == 0)
        let complete = Self.rulesOnly(try capture.listing(reference))

        var outcomes: [String: Int] = [:]
        for round in 0..<20 {
            let namespace = try TestNamespace("race")
            defer { namespace.delete() }
            let results = Self.simultaneously([
                { @Sendable in Result { try harness.run("ADD", netns: namespace.path, containerID: "race\(round)", config: config) } },
                { @Sendable in
                    // DEL needs no pod lookup and would always finish first: start it later each
                    // round, so it lands before, during and after the ADD's commit.
                    usleep(UInt32(round) * 600)
                    return Result { try harness.run("DEL", netns: namespace.path, containerID: "race\(round)", config: config) }
                },
            ])
            let add = try results[0].get(), delete = try results[1].get()
            #expect(delete.status == 0, "DEL never fails: \(delete.stdout)")
            if add.status != 0 { #expect(add.errorCode != nil, "a failed ADD says why: \(add.stdout)") }
            let listing = Self.rulesOnly(try capture.listing(namespace))
            let empty = try Capture.holdsNoRules(namespace)
            #expect(empty || listing == complete, "round \(round): a partial rule set:\n\(listing)")
            if capture.transparent {
                let route = try namespace.run(["ip", "rule"]).stdout.contains("lookup 133")
                #expect(route == !empty, "round \(round): the TPROXY route goes with the rules (rules: \(!empty), route: \(route))")
            }
            outcomes[empty ? "none" : "all", default: 0] += 1
            _ = try harness.run("DEL", netns: namespace.path, containerID: "race\(round)", config: config)
        }
        print("ADD/DEL race outcomes (\(capture)): \(outcomes)")
    }
}

/// Results written by concurrent threads, one slot each.
final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: T) { lock.withLock { slots[index] = value } }

    var values: [T] { lock.withLock { slots.map { $0! } } }
}
