import Foundation
import JSON
import KubeEmulator
import Testing
import TestSupport

/// The plugin asks the agent's pod cache first: real agent, real plugin, real netns, the emulator's
/// watch cut and compacted under it.
@Suite(.serialized) struct AgentPodCacheTests {
    /// A node whose image carries the real plugin (with its library dir), and a running agent.
    func runningAgent() throws -> (NodeFixture, KubeEmulator, AgentProcess) {
        let node = try NodeFixture(pluginBytes: Array(try Data(contentsOf: URL(fileURLWithPath: Paths.plugin))))
        let libraries = URL(fileURLWithPath: Paths.plugin).deletingLastPathComponent().appendingPathComponent("istio-cni-libs")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: libraries.path)) ?? [] {
            try node.write("image-bin/istio-cni-libs/" + name, bytes: Array(try Data(contentsOf: libraries.appendingPathComponent(name))))
        }
        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList)
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        let agent = try AgentProcess(node: node, emulator: emulator)
        try agent.start()
        #expect(AgentProcess.eventually(within: 5) {
            let (status, report) = agent.http(agent.readinessPort, "/readyz")
            return status == 200 && report.contains("pod cache: synced")
        })
        return (node, emulator, agent)
    }

    /// Runs the installed plugin with our chained entry, as the runtime would from the conflist.
    func add(_ node: NodeFixture, netns: String, pod: String, uid: String? = nil) throws -> CommandResult {
        let list = try JSONParser.parse(try #require(node.read("net.d/10-bridge.conflist")))
        var entry = try #require(list["plugins"]?.arrayValue?.last?.objectValue)
        entry["cniVersion"] = list["cniVersion"]
        entry["name"] = list["name"]
        var args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=\(pod)"
        if let uid { args += ";K8S_POD_UID=\(uid)" }
        return try Command.run([node.binDirectory + "/istio-cni"], stdin: JSONSerializer.serialize(.object(entry)), environment: [
            "CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c0ffee\(pod.count)", "CNI_NETNS": netns, "CNI_IFNAME": "eth0",
            "CNI_PATH": node.binDirectory, "CNI_ARGS": args, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        ])
    }

    func pluginGETs(_ emulator: KubeEmulator) -> [String] {
        emulator.requests.filter { $0.userAgent.hasPrefix("istio-cni-swift/") }.map(\.path)
    }

    @Test func pluginGetsThePodFromTheCacheAndTheAgentLogsIt() throws {
        let (node, emulator, agent) = try runningAgent()
        defer { agent.kill() }
        try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "web"))
        let namespace = try TestNamespace("cache")
        let result = try add(node, netns: namespace.path, pod: "web")
        #expect(result.succeeded, "\(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains("pod from the node agent's cache"))
        #expect(pluginGETs(emulator).isEmpty, "the plugin did not ask the API server")
        #expect(try namespace.nftListing().contains("table inet istio-proxy-nat"))
        #expect(AgentProcess.eventually(within: 2) { agent.log.contains("plugin: ADD default/web (container c0ffee3): rules applied") })
        let metrics = agent.http(agent.monitoringPort, "/metrics").1
        #expect(metrics.contains(#"istio_cni_plugin_duration_seconds_count{command="ADD",outcome="rules applied"} 1"#))
    }

    @Test func survivesCutWatchesAndRelistsAfterGone() throws {
        let (node, emulator, agent) = try runningAgent()
        defer { agent.kill() }
        #expect(AgentProcess.eventually(within: 3) { emulator.activeWatchCount == 1 })
        emulator.cutWatches()
        try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "after-cut"))
        let first = try TestNamespace("cut")
        #expect(try add(node, netns: first.path, pod: "after-cut").stderr.contains("pod from the node agent's cache"))

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
        let result = try add(node, netns: second.path, pod: "after-gone")
        #expect(result.succeeded && result.stderr.contains("pod from the node agent's cache"), "\(result.stderr)")
        #expect(pluginGETs(emulator).isEmpty)
    }

    @Test func aRecreatedPodWithAnotherUIDIsNotServedStale() throws {
        let (node, emulator, agent) = try runningAgent()
        defer { agent.kill() }
        try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "db-0"))
        let namespace = try TestNamespace("uid")
        let result = try add(node, netns: namespace.path, pod: "db-0", uid: "00000000-0000-4000-8000-000000000000")
        #expect(result.succeeded, "\(result.stderr)")
        #expect(result.stderr.contains("asking the API server (node agent answered 404: the node agent has not seen pod default/db-0 with uid"))
        #expect(pluginGETs(emulator) == ["/api/v1/namespaces/default/pods/db-0"])
    }

    @Test func onlyRootMayUseTheSocket() throws {
        let (node, emulator, agent) = try runningAgent()
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
