import Foundation
import JSON
import Testing
import TestSupport

/// repairPods: the agent programs a broken pod's rules in its real network namespace, found by the
/// plugin's record or by the pod's IP, and remembers it across a restart.
@Suite(.serialized) struct RepairInPlaceTests {
    static let environment = ["REPAIR_REPAIR_PODS": "true", "REPAIR_HOST_PROC_DIR": "/proc", "REPAIR_HOST_NETNS_DIR": "/run/netns"]

    func tables(_ namespace: TestNamespace) throws -> String {
        try namespace.run(["nft", "list", "tables"]).stdout
    }

    func validate(_ namespace: TestNamespace) throws -> Int32 {
        try namespace.run([Paths.built("install-cni"), "validate", "--timeout", "1"], check: false).status
    }

    @Test func repairsANamespaceFoundByThePluginsRecordAndRemembersIt() throws {
        let network = try PodNetwork()
        defer { network.delete() }
        let node = try InstalledNode(environment: Self.environment,
                                     pods: [PodFixtures.with(PodFixtures.meshPod(name: "web"), status: PodFixtures.healthyStatus(podIP: PodNetwork.podAddress))])
        defer { node.agent.kill() }
        let added = try node.plugin(netns: network.pod.path, pod: "web", containerID: "sandbox-web")
        #expect(added.succeeded, "\(added.stderr)")
        let record = try #require(node.node.read("run/sandboxes/sandbox-web.json"))
        #expect(record.contains(network.pod.path) && record.contains("\"podName\":\"web\""))

        // Something removes the rules; the validation container then fails and the kubelet reports it.
        try network.pod.run(["nft", "delete", "table", "inet", "istio-proxy-nat"])
        #expect(try validate(network.pod) == 126)
        try node.setStatus("web", PodFixtures.brokenStatus(podIP: PodNetwork.podAddress))

        // The agent logs after it commits: wait for the log line, then look at the kernel.
        #expect(AgentProcess.eventually(within: 5) { node.agent.log.contains("netns found by the plugin's record (\(network.pod.path))") },
                "\(node.agent.log)")
        #expect(try tables(network.pod).contains("istio-proxy-nat"))
        #expect(try validate(network.pod) == 0, "the pod's next validation run passes")
        #expect(AgentProcess.eventually(within: 5) { node.events(reason: "RepairBrokenPod").contains { $0["involvedObject"]?["name"]?.stringValue == "web" } })
        #expect(node.node.read("run/repaired-pods.json")?.contains("default/web") == true)

        // Restarted, the agent sees the same broken status and does not program the pod again.
        node.agent.kill()
        try network.pod.run(["nft", "delete", "table", "inet", "istio-proxy-nat"])
        try node.agent.start()
        #expect(AgentProcess.eventually(within: 5) { node.readiness().contains("1 mesh pods, 1 broken") })
        Thread.sleep(forTimeInterval: 1)
        #expect(!(try tables(network.pod)).contains("istio-proxy-nat"), "remembered as repaired: \(node.agent.log)")
        #expect(AgentProcess.eventually(within: 5) { node.metrics().contains(#"istio_cni_repair_pods_repaired_total{type="repair",result="skip"}"#) })

        // DEL forgets the sandbox.
        #expect(try node.plugin("DEL", netns: network.pod.path, pod: "web", containerID: "sandbox-web").succeeded)
        #expect(node.node.read("run/sandboxes/sandbox-web.json") == nil)
    }

    @Test func repairsWithTheIPTablesBackendWhenTheNodeUsesIt() throws {
        let network = try PodNetwork()
        defer { network.delete() }
        var environment = Self.environment
        environment["NATIVE_NFTABLES"] = "false"
        environment["FORCE_IPTABLES_BINARY"] = "legacy"
        let node = try InstalledNode(environment: environment,
                                     pods: [PodFixtures.with(PodFixtures.meshPod(name: "web"), status: PodFixtures.healthyStatus(podIP: PodNetwork.podAddress))])
        defer { node.agent.kill() }
        let added = try node.plugin(netns: network.pod.path, pod: "web", containerID: "sandbox-ipt")
        #expect(added.succeeded, "\(added.stdout) \(added.stderr)")
        #expect(try network.pod.run(["iptables-legacy-save"]).stdout.contains(":ISTIO_OUTPUT"))

        try network.pod.run(["iptables-legacy", "-t", "nat", "-F"])
        try network.pod.run(["iptables-legacy", "-t", "nat", "-X"])
        #expect(try validate(network.pod) == 126)
        try node.setStatus("web", PodFixtures.brokenStatus(podIP: PodNetwork.podAddress))
        #expect(AgentProcess.eventually(within: 5) { node.agent.log.contains("in iptables-legacy nat") }, "\(node.agent.log)")
        #expect(try validate(network.pod) == 0)
        #expect(!(try tables(network.pod)).contains("istio-proxy"), "nothing in nftables")
        #expect(node.node.read("run/sandboxes/sandbox-ipt.json")?.contains(#""variant":"legacy""#) == true)

        #expect(try node.plugin("DEL", netns: network.pod.path, pod: "web", containerID: "sandbox-ipt").succeeded)
        #expect(!(try network.pod.run(["iptables-legacy-save"]).stdout.contains("ISTIO_")))
    }

    @Test func findsANamespaceWithoutARecordByThePodsIP() throws {
        let address = "198.51.100.77"
        let namespace = try TestNamespace("byip")
        defer { namespace.delete() }
        try namespace.run(["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"])
        try namespace.run(["ip", "addr", "add", "\(address)/24", "dev", "eth0"])
        try namespace.run(["ip", "link", "set", "eth0", "up"])
        try namespace.run(["ip", "link", "set", "eth0p", "up"])
        let sandbox = try BackgroundProcess(["nsenter", "--net=\(namespace.path)", "--", "sh", "-c", "echo ready; exec sleep 60"])
        defer { sandbox.stop() }

        let node = try InstalledNode(environment: Self.environment)
        defer { node.agent.kill() }
        let chaos = WatchChaos(node.emulator)
        defer { chaos.stop() }
        try node.emulator.store.create(.pods, namespace: "default",
                                       PodFixtures.with(PodFixtures.meshPod(name: "api"), status: PodFixtures.brokenStatus(podIP: address)))
        #expect(AgentProcess.eventually(within: 5) { node.agent.log.contains("netns found by matching the pod's IP in /proc") }, "\(node.agent.log)")
        #expect(try tables(namespace).contains("istio-proxy-nat"))
        #expect(try validate(namespace) == 0)
    }
}
