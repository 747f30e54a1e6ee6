import Foundation
import JSON
import KubeEmulator
import Testing
import TestSupport

/// A node whose image carries the real plugin (with its library dir) chained after bridge, an API
/// emulator, and a running agent whose first pod list is done.
struct InstalledNode {
    let node: NodeFixture
    let emulator: KubeEmulator
    let agent: AgentProcess

    init(environment: [String: String] = [:], pods: [JSONValue] = []) throws {
        node = try NodeFixture(pluginBytes: Array(try Data(contentsOf: URL(fileURLWithPath: Paths.plugin))))
        let libraries = URL(fileURLWithPath: Paths.plugin).deletingLastPathComponent().appendingPathComponent("istio-cni-libs")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: libraries.path)) ?? [] {
            try node.write("image-bin/istio-cni-libs/" + name, bytes: Array(try Data(contentsOf: libraries.appendingPathComponent(name))))
        }
        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList)
        emulator = try KubeEmulator(keyType: .ecdsaP256)
        for pod in pods { try emulator.store.create(.pods, namespace: pod["metadata"]?["namespace"]?.stringValue, pod) }
        agent = try AgentProcess(node: node, emulator: emulator)
        agent.extraEnvironment = environment
        try agent.start()
        let agent = agent
        #expect(AgentProcess.eventually(within: 10) {
            let (status, report) = agent.http(agent.readinessPort, "/readyz")
            return status == 200 && report.contains("pod cache: synced")
        }, "\(agent.log)")
    }

    /// Runs the installed plugin with our chained entry, as the runtime would from the conflist.
    func plugin(_ command: String = "ADD", netns: String, pod: String, uid: String? = nil, containerID: String? = nil) throws -> CommandResult {
        let list = try JSONParser.parse(try #require(node.read("net.d/10-bridge.conflist")))
        var entry = try #require(list["plugins"]?.arrayValue?.last?.objectValue)
        entry["cniVersion"] = list["cniVersion"]
        entry["name"] = list["name"]
        var args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=\(pod)"
        if let uid { args += ";K8S_POD_UID=\(uid)" }
        return try Command.run([node.binDirectory + "/istio-cni"], stdin: JSONSerializer.serialize(.object(entry)), environment: [
            "CNI_COMMAND": command, "CNI_CONTAINERID": containerID ?? "c0ffee\(pod.count)", "CNI_NETNS": netns, "CNI_IFNAME": "eth0",
            "CNI_PATH": node.binDirectory, "CNI_ARGS": args, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        ])
    }

    func pod(_ name: String, namespace: String = "default") -> JSONValue? {
        try? emulator.store.get(.pods, namespace: namespace, name: name)
    }

    /// Replaces the pod's status, as the kubelet does.
    func setStatus(_ name: String, _ status: JSONValue) throws {
        try emulator.store.update(.pods, namespace: "default", name: name) { $0["status"] = status }
    }

    func events(reason: String) -> [JSONValue] {
        emulator.store.objects(.events).filter { $0["reason"]?.stringValue == reason }
    }

    func readiness() -> String { agent.http(agent.readinessPort, "/readyz").1 }
    func metrics() -> String { agent.http(agent.monitoringPort, "/metrics").1 }
}
