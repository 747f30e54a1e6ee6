import Foundation
import JSON
import Testing
import TestSupport

/// A short soak on every CI run (integration/soak/soak.sh runs the 10,000-cycle one): pods come and
/// go through the API, each through ADD, CHECK and DEL in a fresh namespace, and the agent ends with
/// the descriptors it started with and nothing left in the run dir.
@Suite(.serialized) struct AgentSoakTests {
    static func openDescriptors(_ pid: Int32) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
    }

    @Test func podLifecyclesLeaveNothingBehind() throws {
        let installed = try InstalledNode()
        defer { installed.agent.kill() }
        let pid = try #require(installed.agent.pid)
        func lifecycle(_ index: Int) throws {
            let name = "soak-\(index)"
            try installed.emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: name))
            let namespace = try TestNamespace("soak")
            defer { namespace.delete() }
            for command in ["ADD", "CHECK", "DEL"] {
                let result = try installed.plugin(command, netns: namespace.path, pod: name, containerID: "soak\(index)")
                #expect(result.succeeded, "cycle \(index) \(command): \(result.stdout)")
            }
            try installed.emulator.store.delete(.pods, namespace: "default", name: name)
        }
        // Warm-up: the agent's pools and caches reach their working size first.
        for index in 0..<20 { try lifecycle(index) }
        let descriptorsBefore = Self.openDescriptors(pid)
        for index in 20..<150 { try lifecycle(index) }
        #expect(AgentProcess.eventually(within: 3) { Self.openDescriptors(pid) <= descriptorsBefore },
                "agent descriptors grew from \(descriptorsBefore) to \(Self.openDescriptors(pid))")
        let sandboxes = installed.node.names("run/sandboxes")
        #expect(sandboxes.isEmpty, "no sandbox records, locks or temp files left: \(sandboxes)")
        #expect(installed.node.names("run").allSatisfy { ["agent.sock", "istio-cni-kubeconfig", "install-state.json", "sandboxes", "repaired-pods.json"].contains($0) || $0.hasPrefix("tls-session") },
                "\(installed.node.names("run"))")
        #expect(!installed.agent.log.contains("error"), "\(installed.agent.log.suffix(2000))")
    }
}
