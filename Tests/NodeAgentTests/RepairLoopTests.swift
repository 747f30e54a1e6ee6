import Foundation
import JSON
import KubeEmulator
import Testing
import TestSupport

/// The repair loop in the real agent process against the API emulator: every action mode, the
/// breaker, and a watch cut at random and answered with 410 Gone.
@Suite(.serialized) struct RepairLoopTests {
    static let label = "cni.istio.io/uninitialized"

    func broken(_ name: String, labels: [String: String] = [:], restartPolicy: String? = nil, podIP: String = "203.0.113.2") -> JSONValue {
        PodFixtures.with(PodFixtures.meshPod(name: name, labels: labels),
                         status: PodFixtures.brokenStatus(podIP: podIP, neverRestarts: restartPolicy == "Never"), restartPolicy: restartPolicy)
    }

    func healthy(_ name: String, labels: [String: String] = [:]) -> JSONValue {
        PodFixtures.with(PodFixtures.meshPod(name: name, labels: labels), status: PodFixtures.healthyStatus())
    }

    func isLabelled(_ node: InstalledNode, _ name: String) -> Bool {
        node.pod(name)?["metadata"]?["labels"]?[Self.label]?.stringValue == "true"
    }

    @Test func labelModeLabelsThroughStatusAndLeavesThePodForInspection() throws {
        let node = try InstalledNode(environment: ["REPAIR_LABEL_PODS": "true"], pods: [healthy("ok")])
        defer { node.agent.kill() }
        try node.emulator.store.create(.pods, namespace: "default", broken("web"))
        try node.emulator.store.create(.pods, namespace: "default", broken("job-1", restartPolicy: "Never"))
        #expect(AgentProcess.eventually(within: 5) { isLabelled(node, "web") && isLabelled(node, "job-1") }, "\(node.agent.log)")
        #expect(!isLabelled(node, "ok"))
        #expect(node.pod("web") != nil, "deletePods=false keeps the pod")

        // The event follows the label.
        #expect(AgentProcess.eventually(within: 5) { node.events(reason: "LabelBrokenPod").count == 2 })
        let event = try #require(node.events(reason: "LabelBrokenPod").first { $0["involvedObject"]?["name"]?.stringValue == "web" })
        #expect(event["type"]?.stringValue == "Warning" && event["source"]?["component"]?.stringValue == "cni-repair")
        let message = event["message"]?.stringValue ?? ""
        #expect(message.contains("istio-validation exited 126") && message.contains("kubectl logs -n default web -c istio-validation"), "\(message)")

        // A later status change of a labelled pod patches nothing more.
        try node.setStatus("web", PodFixtures.brokenStatus(message: "again"))
        Thread.sleep(forTimeInterval: 0.5)
        let patches = node.emulator.requests.filter { $0.method == "PATCH" && $0.path.hasSuffix("/pods/web/status") }
        #expect(patches.count == 1)
        #expect(AgentProcess.eventually(within: 5) { node.metrics().contains(#"istio_cni_repair_pods_repaired_total{type="label",result="success"} 2"#) },
                "\(node.metrics())")
    }

    @Test func deleteModeDeletesAndBacksOffARecreatedBrokenPod() throws {
        let node = try InstalledNode(environment: ["REPAIR_DELETE_PODS": "true"], pods: [healthy("ok")])
        defer { node.agent.kill() }
        let created = try node.emulator.store.create(.pods, namespace: "default", broken("web"))
        #expect(AgentProcess.eventually(within: 5) { node.pod("web") == nil }, "\(node.agent.log)")
        #expect(node.pod("ok") != nil)
        let request = try #require(node.emulator.requests.first { $0.method == "DELETE" })
        let options = try JSONParser.parse(request.body)
        #expect(options["preconditions"]?["uid"] == created["metadata"]?["uid"], "never hits a recreated pod of the same name")
        #expect(options["preconditions"]?["resourceVersion"] == created["metadata"]?["resourceVersion"])
        #expect(AgentProcess.eventually(within: 5) { node.events(reason: "DeleteBrokenPod").contains { $0["involvedObject"]?["name"]?.stringValue == "web" } })

        // Recreated under the same name (a StatefulSet) and broken again: deleted again, after the backoff.
        try node.emulator.store.create(.pods, namespace: "default", broken("web"))
        #expect(AgentProcess.eventually(within: 8) { node.pod("web") == nil }, "\(node.agent.log)")
        let deletes = node.emulator.requests.filter { $0.method == "DELETE" && $0.path.hasSuffix("/pods/web") }
        #expect(deletes.count == 2)
    }

    @Test func reportOnlyModeChangesNothingAndSaysWhy() throws {
        let node = try InstalledNode(pods: [broken("web")])
        defer { node.agent.kill() }
        #expect(AgentProcess.eventually(within: 5) { node.agent.log.contains("pod default/web is broken") }, "\(node.agent.log)")
        #expect(node.agent.log.contains("no action taken"))
        #expect(!isLabelled(node, "web") && node.pod("web") != nil)
        #expect(node.readiness().contains("repair: report-only on node node-a: 1 mesh pods, 1 broken"))
    }

    @Test func extraSelectorsLimitWhichPodsAreTouched() throws {
        let node = try InstalledNode(environment: ["REPAIR_LABEL_PODS": "true", "REPAIR_LABEL_SELECTORS": "app in (web)"],
                                     pods: [broken("web", labels: ["app": "web"]), broken("db", labels: ["app": "db"])])
        defer { node.agent.kill() }
        #expect(AgentProcess.eventually(within: 5) { isLabelled(node, "web") })
        Thread.sleep(forTimeInterval: 0.5)
        #expect(!isLabelled(node, "db"))
    }

    @Test func breakerStopsDeletionsWhenMostOfTheNodeIsBrokenAndResumes() throws {
        let pods = [broken("a"), broken("b"), broken("c"), healthy("d")]
        let node = try InstalledNode(environment: ["REPAIR_DELETE_PODS": "true"], pods: pods)
        defer { node.agent.kill() }
        let chaos = WatchChaos(node.emulator)
        defer { chaos.stop() }
        #expect(AgentProcess.eventually(within: 5) { node.readiness().contains("breaker OPEN") }, "\(node.readiness())")
        let nodeEvent = try #require(AgentProcess.eventually(within: 5) { !node.events(reason: "RepairBreakerOpen").isEmpty }
                                     ? node.events(reason: "RepairBreakerOpen").first : nil)
        #expect(nodeEvent["involvedObject"]?["kind"]?.stringValue == "Node" && nodeEvent["metadata"]?["namespace"]?.stringValue == "default")
        #expect(nodeEvent["message"]?.stringValue?.contains("3 of 4 mesh pods") == true)
        #expect(AgentProcess.eventually(within: 5) { node.metrics().contains("istio_cni_repair_breaker_open 1") })
        Thread.sleep(forTimeInterval: 0.5)
        #expect(["a", "b", "c"].allSatisfy { node.pod($0) != nil }, "no deletions while open")
        #expect(!node.emulator.requests.contains { $0.method == "DELETE" })

        try node.setStatus("a", PodFixtures.healthyStatus())
        try node.setStatus("b", PodFixtures.healthyStatus())
        #expect(AgentProcess.eventually(within: 5) { node.pod("c") == nil }, "\(node.agent.log)")
        #expect(node.pod("a") != nil && node.pod("b") != nil)
        #expect(AgentProcess.eventually(within: 5) { !node.events(reason: "RepairBreakerClosed").isEmpty })
    }

    @Test(arguments: ["label", "delete", "report-only"])
    func noBrokenPodIsMissedWhileTheWatchIsCutAndExpired(mode: String) throws {
        let names = (0..<20).map { "pod-\($0)" }
        var environment = ["REPAIR_BREAKER_BROKEN_SHARE": "1"]
        if mode == "label" { environment["REPAIR_LABEL_PODS"] = "true" }
        if mode == "delete" { environment["REPAIR_DELETE_PODS"] = "true" }
        let node = try InstalledNode(environment: environment, pods: names.map { healthy($0) })
        defer { node.agent.kill() }
        func acted(_ name: String) -> Bool {
            switch mode {
            case "label": isLabelled(node, name)
            case "delete": node.pod(name) == nil
            default: node.agent.log.contains("pod default/\(name) is broken")
            }
        }
        let chaos = WatchChaos(node.emulator)
        let breaking = Array(names.shuffled().prefix(10))
        for name in breaking {
            usleep(UInt32.random(in: 20_000...200_000))
            try node.setStatus(name, PodFixtures.brokenStatus())
        }
        let allActed = AgentProcess.eventually(within: 15) { breaking.allSatisfy(acted) }
        chaos.stop()
        #expect(chaos.cuts > 3)
        #expect(allActed, "\(breaking.filter { !acted($0) }) \(node.agent.log.suffix(3000))")
        #expect(names.filter { !breaking.contains($0) }.allSatisfy { !acted($0) })

        // One more change, then the history is compacted under a cut watch: the agent must list again.
        let last = try #require(names.first { !breaking.contains($0) })
        try node.setStatus(last, PodFixtures.brokenStatus())
        node.emulator.store.compactHistory()
        node.emulator.cutWatches()
        #expect(AgentProcess.eventually(within: 10) { node.agent.log.contains("410 Gone") && acted(last) }, "\(node.agent.log.suffix(2000))")
    }

    @Test func runRefusesToStartWithoutTheRepairNodeName() throws {
        let result = try Command.run(["env", "-i", "PATH=/usr/bin:/bin", Paths.built("install-cni"), "run", "--readiness-port", "0",
                                      "--monitoring-port", "0"], timeout: 20)
        #expect(result.status != 0)
        #expect(result.stderr.contains("REPAIR_NODE_NAME") && result.stderr.contains("REPAIR_ENABLED=false"), "\(result.stderr)")
    }
}
