import Foundation
import JSON
import KubeEmulator
import Testing
import TestSupport

/// The CNI config dir on a real tmpfs that is full or mounted read-only: the agent says so (log,
/// /readyz, metrics), leaves the primary's file exactly as it was and no temporary file behind, and
/// installs once the disk recovers.
@Suite(.serialized) struct AgentDiskFaultTests {
    enum DiskFault: String, CaseIterable, Sendable {
        case full, readOnly

        var errnoText: String { self == .full ? "No space left on device" : "Read-only file system" }
    }

    /// A small tmpfs mounted over `directory` for one test.
    final class SmallDisk {
        let directory: String
        var filler: String { directory + "/.filler" }

        init(over directory: String) throws {
            self.directory = directory
            try Command.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "icni-t-netd", directory], check: true)
        }

        func inflict(_ fault: DiskFault) throws {
            switch fault {
            case .full: _ = try Command.run(["dd", "if=/dev/zero", "of=\(filler)", "bs=4k"])
            case .readOnly: try Command.run(["mount", "-o", "remount,ro", directory], check: true)
            }
        }

        func heal(_ fault: DiskFault) throws {
            switch fault {
            case .full: try FileManager.default.removeItem(atPath: filler)
            case .readOnly: try Command.run(["mount", "-o", "remount,rw", directory], check: true)
            }
        }

        func unmount() { _ = try? Command.run(["umount", "-l", directory]) }
    }

    @Test(arguments: DiskFault.allCases)
    func aFailingConfigDirIsReportedAndNeverLeftHalfWritten(fault: DiskFault) throws {
        let node = try NodeFixture()
        let disk = try SmallDisk(over: node.netDirectory)
        // Unmounted before the node's tree is removed, and never while the agent still runs.
        defer { disk.unmount(); withExtendedLifetime(node) {} }
        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList)
        try disk.inflict(fault)
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        let agent = try AgentProcess(node: node, emulator: emulator)
        try agent.start()
        defer { agent.kill() }

        #expect(AgentProcess.eventually(within: 5) { agent.log.contains(fault.errnoText) }, "the agent logs why it cannot install: \(agent.log)")
        let readiness = agent.http(agent.readinessPort, "/readyz")
        #expect(readiness.0 == 503 && readiness.1.contains(fault.errnoText), "\(readiness)")
        #expect(agent.http(agent.monitoringPort, "/metrics").1.contains(#"istio_cni_installs_total{result="CREATE_CNI_CONFIG_FAILURE"}"#))
        #expect(node.read("net.d/10-bridge.conflist") == NodeFixture.bridgeList, "the primary's config is untouched")
        #expect(node.names("net.d").filter { $0 != ".filler" } == ["10-bridge.conflist"], "no temporary file left: \(node.names("net.d"))")

        try disk.heal(fault)
        #expect(AgentProcess.eventually(within: 8) { agent.http(agent.readinessPort, "/readyz").0 == 200 }, "installs once the disk recovers")
        let plugins = node.read("net.d/10-bridge.conflist").flatMap { try? JSONParser.parse($0)["plugins"]?.arrayValue }
        #expect(plugins?.last?["type"] == "istio-cni")
    }
}
