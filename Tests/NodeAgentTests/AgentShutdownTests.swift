import Foundation
import JSON
import KubeEmulator
import Testing
import TestSupport

/// SIGTERM never wedges a node: a rolling update, a drain or a restart keep the plugin installed for
/// the pods that start meanwhile; only a deleted DaemonSet (or `install-cni uninstall`) removes it,
/// config entry first.
@Suite(.serialized) struct AgentShutdownTests {
    /// The DaemonSet and the agent's own pod, owned by it, as the API would hold them.
    func registerAgentPod(_ emulator: KubeEmulator) throws {
        try emulator.store.create(.daemonSets, namespace: "istio-system", .object(JSONObject([
            ("metadata", .object(JSONObject([("name", "istio-cni-node")]))),
        ])))
        try emulator.store.create(.pods, namespace: "istio-system", .object(JSONObject([
            ("metadata", .object(JSONObject([
                ("name", "istio-cni-node-x7k2p"),
                ("ownerReferences", [.object(JSONObject([("apiVersion", "apps/v1"), ("kind", "DaemonSet"), ("name", "istio-cni-node"), ("controller", true)]))]),
            ]))),
            ("spec", .object(JSONObject([("nodeName", "node-a"), ("containers", [.object(JSONObject([("name", "install-cni")]))])]))),
        ])))
    }

    func installedAgent(_ node: NodeFixture, _ emulator: KubeEmulator) throws -> AgentProcess {
        let agent = try AgentProcess(node: node, emulator: emulator)
        agent.extraEnvironment["POD_NAME"] = "istio-cni-node-x7k2p"
        try agent.start()
        #expect(AgentProcess.eventually(within: 5) { agent.http(agent.readinessPort, "/readyz").0 == 200 })
        return agent
    }

    @Test func rollingUpdateKeepsEverythingInstalled() throws {
        let node = try NodeFixture()
        try node.write("net.d/10-calico.conf", NodeFixture.calicoConf)
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        try registerAgentPod(emulator)
        let agent = try installedAgent(node, emulator)
        agent.terminate()
        #expect(agent.log.contains("leaving the plugin and its config installed: DaemonSet istio-system/istio-cni-node still exists"))
        #expect(node.names("net.d") == ["10-calico.conflist"])
        #expect(node.read("net.d/10-calico.conflist")?.contains("istio-cni") == true)
        #expect(node.names("bin") == ["istio-cni", "istio-cni-libs"] && FileManager.default.fileExists(atPath: node.runDirectory + "/istio-cni-kubeconfig"))
        #expect(!FileManager.default.fileExists(atPath: node.runDirectory + "/agent.sock"), "the socket goes with the agent")
    }

    @Test func deletedDaemonSetUninstallsConfigFirstAndRestoresTheConf() throws {
        let node = try NodeFixture()
        try node.write("net.d/10-calico.conf", NodeFixture.calicoConf)
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        try registerAgentPod(emulator)
        let agent = try installedAgent(node, emulator)
        try emulator.store.delete(.daemonSets, namespace: "istio-system", name: "istio-cni-node")
        agent.terminate()
        #expect(agent.log.contains("shutting down and uninstalling: DaemonSet istio-system/istio-cni-node was deleted"))
        #expect(node.names("net.d") == ["10-calico.conf"] && node.read("net.d/10-calico.conf") == NodeFixture.calicoConf)
        #expect(node.names("bin").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: node.runDirectory + "/istio-cni-kubeconfig"))
        let log = agent.log
        let configRemoved = try #require(log.range(of: "removed \(node.netDirectory)/10-calico.conflist"))
        let binaryRemoved = try #require(log.range(of: "removed \(node.binDirectory)/istio-cni\n"))
        #expect(configRemoved.lowerBound < binaryRemoved.lowerBound, "the config entry goes before the binary")
    }

    @Test func daemonSetBeingDeletedInForegroundAlsoUninstalls() throws {
        let node = try NodeFixture()
        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList)
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        try registerAgentPod(emulator)
        let agent = try installedAgent(node, emulator)
        try emulator.store.update(.daemonSets, namespace: "istio-system", name: "istio-cni-node") { daemonSet in
            var metadata = daemonSet["metadata"]?.objectValue ?? JSONObject()
            metadata["deletionTimestamp"] = "2026-12-02T10:00:00Z"
            daemonSet["metadata"] = .object(metadata)
        }
        agent.terminate()
        #expect(agent.log.contains("DaemonSet istio-system/istio-cni-node is being deleted"))
        #expect(try JSONParser.parse(try #require(node.read("net.d/10-bridge.conflist"))) == JSONParser.parse(NodeFixture.bridgeList))
    }

    @Test func unreachableAPIAtShutdownKeepsTheNodeWorking() throws {
        let node = try NodeFixture()
        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList)
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        try registerAgentPod(emulator)
        let agent = try installedAgent(node, emulator)
        emulator.injectFault(.status(503, retryAfterSeconds: nil), count: nil)
        agent.terminate()
        #expect(agent.log.contains("leaving the plugin and its config installed: could not read our pod"))
        #expect(node.read("net.d/10-bridge.conflist")?.contains("istio-cni") == true)
    }

    @Test func standaloneModeKeepsOrRemovesOnlyItsOwnFile() throws {
        for deleteDaemonSet in [false, true] {
            let node = try NodeFixture(chained: false)
            let multus = #"{"cniVersion":"0.3.1","name":"multus-cni-network","type":"multus"}"#
            try node.write("net.d/00-multus.conf", multus)
            let emulator = try KubeEmulator(keyType: .ecdsaP256)
            try registerAgentPod(emulator)
            let agent = try installedAgent(node, emulator)
            #expect(node.names("net.d") == ["00-multus.conf", "istio-cni.conf"])
            if deleteDaemonSet { try emulator.store.delete(.daemonSets, namespace: "istio-system", name: "istio-cni-node") }
            agent.terminate()
            #expect(node.names("net.d") == (deleteDaemonSet ? ["00-multus.conf"] : ["00-multus.conf", "istio-cni.conf"]))
            #expect(node.read("net.d/00-multus.conf") == multus, "Multus' own config is never touched")
            #expect(node.names("bin").isEmpty == deleteDaemonSet)
        }
    }

    @Test func uninstallCommandRemovesEverything() throws {
        let node = try NodeFixture()
        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList)
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        let agent = try AgentProcess(node: node, emulator: emulator)
        try agent.start()
        #expect(AgentProcess.eventually(within: 5) { agent.http(agent.readinessPort, "/readyz").0 == 200 })
        agent.terminate()
        let result = try Command.run(["env", "-i"] + agent.environment.map { "\($0.key)=\($0.value)" } + [Paths.built("install-cni"), "uninstall"])
        #expect(result.succeeded, "\(result.stderr)")
        #expect(try JSONParser.parse(try #require(node.read("net.d/10-bridge.conflist"))) == JSONParser.parse(NodeFixture.bridgeList))
        #expect(node.names("bin").isEmpty && !node.names("run").contains("istio-cni-kubeconfig"))
    }

    @Test func badSettingStopsStartUpNamingIt() throws {
        let result = try Command.run(["env", "-i", "KUBECONFIG_MODE=rw-r--r--", Paths.built("install-cni"), "run"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("KUBECONFIG_MODE (--kubeconfig-mode)=\"rw-r--r--\" is not an octal file mode"))
        let flag = try Command.run(["env", "-i", Paths.built("install-cni"), "run", "--chained-cni-plugin", "maybe"])
        #expect(flag.status != 0 && flag.stderr.contains("CHAINED_CNI_PLUGIN (--chained-cni-plugin)=\"maybe\" is not a boolean"))
    }
}
