import Foundation
import JSON
import KubeEmulator
import Testing
import TestSupport

/// The plugin asks the agent's pod cache first: real agent, real plugin, real netns, the emulator's
/// watch cut and compacted under it.
@Suite(.serialized) struct AgentPodCacheTests {
    func runningAgent() throws -> (NodeFixture, KubeEmulator, AgentProcess, InstalledNode) {
        let installed = try InstalledNode()
        return (installed.node, installed.emulator, installed.agent, installed)
    }

    func pluginGETs(_ emulator: KubeEmulator) -> [String] {
        emulator.requests.filter { $0.userAgent.hasPrefix("istio-cni-swift/") }.map(\.path)
    }

    @Test func pluginGetsThePodFromTheCacheAndTheAgentLogsIt() throws {
        let (_, emulator, agent, installed) = try runningAgent()
        defer { agent.kill() }
        try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "web"))
        let namespace = try TestNamespace("cache")
        let result = try installed.plugin(netns: namespace.path, pod: "web")
        #expect(result.succeeded, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("pod from the node agent's cache"))
        #expect(pluginGETs(emulator).isEmpty, "the plugin did not ask the API server")
        #expect(try namespace.nftListing().contains("table inet istio-proxy-nat"))
        #expect(AgentProcess.eventually(within: 2) { agent.log.contains("plugin: ADD default/web (container c0ffee3): rules applied") })
        let del = try installed.plugin("DEL", netns: namespace.path, pod: "web")
        #expect(del.succeeded)
        #expect(AgentProcess.eventually(within: 2) { agent.log.contains("plugin: DEL default/web (container c0ffee3): removed") })
        // Istio's names, so existing dashboards work, and the latency histogram by command and outcome.
        let metrics = agent.http(agent.monitoringPort, "/metrics").1
        #expect(metrics.contains("# TYPE istio_cni_plugin_requests_total counter"))
        #expect(metrics.contains(#"istio_cni_plugin_requests_total{response_code="200"} 1"#))
        #expect(metrics.contains(#"istio_cni_plugin_requests_total{response_code="204"} 2"#), "the two reports")
        #expect(metrics.contains("# TYPE istio_cni_plugin_duration_seconds histogram"))
        #expect(metrics.contains(#"istio_cni_plugin_duration_seconds_count{command="ADD",outcome="rules applied"} 1"#))
        #expect(metrics.contains(#"istio_cni_plugin_duration_seconds_count{command="DEL",outcome="rules removed"} 1"#))
        #expect(metrics.contains(#"istio_cni_plugin_duration_seconds_bucket{command="ADD",outcome="rules applied",le="30.0"} 1"#))
        #expect(metrics.contains("# TYPE istio_cni_installs_total counter") && metrics.contains(#"istio_cni_installs_total{result="SUCCESS"}"#))
        #expect(metrics.contains("# TYPE istio_cni_install_ready gauge") && metrics.contains("istio_cni_install_ready 1"))
    }

    @Test func survivesCutWatchesAndRelistsAfterGone() throws {
        let (_, emulator, agent, installed) = try runningAgent()
        defer { agent.kill() }
        #expect(AgentProcess.eventually(within: 3) { emulator.activeWatchCount == 1 })
        emulator.cutWatches()
        try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "after-cut"))
        let first = try TestNamespace("cut")
        #expect(try installed.plugin(netns: first.path, pod: "after-cut").stderr.contains("pod from the node agent's cache"))

        // The watch is cut, the API answers the immediate resume with 503, and while the agent backs
        // off the history it would resume from is compacted away: the next watch gets 410, it lists again.
        #expect(AgentProcess.eventually(within: 3) { emulator.activeWatchCount == 1 })
        emulator.injectFault(.status(503, retryAfterSeconds: nil), count: 1)
        emulator.cutWatches()
        try emulator.store.create(.pods, namespace: "default", PodFixtures.plainPod(name: "filler"))
        emulator.store.compactHistory()
        try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "after-gone"))
        #expect(AgentProcess.eventually(within: 5) { agent.log.contains("(410 Gone); listing again") })
        let second = try TestNamespace("gone")
        let result = try installed.plugin(netns: second.path, pod: "after-gone")
        #expect(result.succeeded && result.stderr.contains("pod from the node agent's cache"), "\(result.stderr)")
        #expect(pluginGETs(emulator).isEmpty)
    }

    /// The runtime still creates the sandbox of a StatefulSet pod that was deleted and recreated under
    /// the same name: neither the cache nor the API may hand it the successor's decision.
    @Test func aRecreatedPodWithAnotherUIDIsNotServedStale() throws {
        let (_, emulator, agent, installed) = try runningAgent()
        defer { agent.kill() }
        let created = try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "db-0"))
        let current = try #require(created["metadata"]?["uid"]?.stringValue)
        let namespace = try TestNamespace("uid")
        let old = "00000000-0000-4000-8000-000000000000"
        let result = try installed.plugin(netns: namespace.path, pod: "db-0", uid: old)
        #expect(!result.succeeded)
        let error = try #require(try? JSONParser.parse(result.stdout))
        #expect(error["code"]?.int64Value == 11)
        let message = error["msg"]?.stringValue ?? ""
        #expect(message.contains(old) && message.contains(current) && message.contains("no rules written"), "\(message)")
        #expect(result.stderr.contains("asking the API server (node agent answered 404: the node agent has not seen pod default/db-0 with uid"))
        #expect(pluginGETs(emulator) == ["/api/v1/namespaces/default/pods/db-0"])
        #expect(try Capture.holdsNoRules(namespace))

        let same = try installed.plugin(netns: namespace.path, pod: "db-0", uid: current)
        #expect(same.succeeded && same.stderr.contains("pod from the node agent's cache"), "\(same.stderr)")
    }

    /// Any root process can write to the socket: a report or request that is not what the plugin sends
    /// gets a 400 naming the problem, and logs, metrics and the cache are as they were.
    @Test func hostileRequestsOnTheSocketChangeNothing() throws {
        let (node, emulator, agent, _) = try runningAgent()
        defer { agent.kill() }
        try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "web"))
        let socket = node.runDirectory + "/agent.sock"
        func curl(_ extra: [String], _ target: String) throws -> (String, String) {
            let result = try Command.run(["curl", "-s", "-w", "\n%{http_code}", "--unix-socket", socket] + extra + ["http://agent" + target])
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
        }
        let report = ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary"]
        for (extra, target, reason) in [
            (report + [#"{"command":"ADD","outcome":"forged","durationSeconds":1e400,"entries":[{"level":"info","message":"forged"}]}"#],
             "/v1/plugin-report", #"durationSeconds "1e400" is not a duration"#),
            (report + [#"{"command":"ADD","outcome":"forged","entries":[{"level":"fatal","message":"forged"}]}"#], "/v1/plugin-report", "entry level"),
            (report + ["not json"], "/v1/plugin-report", "not a JSON object"),
            (["-H", "Transfer-Encoding: chunked", "-X", "POST", "--data-binary", "{}"], "/v1/plugin-report", "Transfer-Encoding is not accepted"),
            ([], "/v1/pods/default/web?waitMilliseconds=1e400", "waitMilliseconds 1e400 is not a number"),
            ([], "/v1/pods/default/web?uid=%0aforged", "is not a pod UID"),
            ([], "/v1/pods/KUBE/web", "is not a Kubernetes namespace name"),
        ] {
            let (status, body) = try curl(extra, target)
            #expect(status == "400" && body.contains(reason), "\(target): \(status) \(body)")
        }
        #expect(agent.http(agent.readinessPort, "/healthz").0 == 200, "the agent is still up")
        let metrics = agent.http(agent.monitoringPort, "/metrics").1
        #expect(!metrics.contains("forged") && !metrics.contains("istio_cni_plugin_duration_seconds_count"), "no report was taken in")
        #expect(metrics.contains(#"istio_cni_plugin_requests_total{response_code="400"} 7"#), "\(metrics)")
        #expect(!agent.log.contains("forged"))
        #expect(try curl([], "/v1/pods/default/web").0 == "200", "the cache still serves")
    }

    @Test func onlyRootMayUseTheSocket() throws {
        let (node, emulator, agent, _) = try runningAgent()
        defer { agent.kill() }
        try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "web"))
        let socket = node.runDirectory + "/agent.sock"
        #expect(node.mode("run/agent.sock") == 0o600)
        let url = "http://agent/v1/pods/default/web"
        #expect(try Command.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", socket, url]).stdout == "200")
        // Even with the file mode opened up, the agent hangs up on a peer that is not root.
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: socket)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: node.runDirectory)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: node.root.path)
        let stranger = try Command.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                                        "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", socket, url])
        #expect(!stranger.succeeded && stranger.stdout == "000", "status \(stranger.status): \(stranger.stdout)")
    }
}
