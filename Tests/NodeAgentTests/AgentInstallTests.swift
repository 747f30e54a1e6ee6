import Foundation
import JSON
import KubeEmulator
@testable import NodeAgent
import Testing
import TestSupport

/// The agent process against real directories and real inotify: it installs, stays installed while
/// other components rewrite files, follows token rotation, and reports readiness and metrics.
@Suite(.serialized) struct AgentInstallTests {
    func entryCount(_ node: NodeFixture, _ file: String) -> Int? {
        guard let text = node.read("net.d/" + file), let list = try? JSONParser.parse(text) else { return nil }
        return list["plugins"]?.arrayValue?.filter { $0["type"] == "istio-cni" }.count
    }

    func holdsBridgeAndOneEntryLast(_ node: NodeFixture, _ file: String) -> Bool {
        guard let text = node.read("net.d/" + file), let plugins = (try? JSONParser.parse(text))?["plugins"]?.arrayValue else { return false }
        return plugins.first?["type"] == "bridge" && plugins.last?["type"] == "istio-cni" && plugins.filter { $0["type"] == "istio-cni" }.count == 1
    }

    @Test func waitsForAPrimaryConfigThenInstallsAndReportsReady() throws {
        let node = try NodeFixture()
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        let agent = try AgentProcess(node: node, emulator: emulator)
        try agent.start()
        defer { agent.kill() }
        #expect(AgentProcess.eventually(within: 5) { agent.http(agent.readinessPort, "/readyz").0 == 503 })
        #expect(agent.http(agent.readinessPort, "/readyz").1.contains("no valid primary CNI config"))
        #expect(agent.http(agent.readinessPort, "/healthz").0 == 200)
        #expect(node.names("bin") == ["istio-cni", "istio-cni-libs"], "binaries go in before any config names them")

        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList)
        #expect(AgentProcess.eventually(within: 1) { holdsBridgeAndOneEntryLast(node, "10-bridge.conflist") }, "chained within 1 s of the config appearing")
        #expect(AgentProcess.eventually(within: 2) { agent.http(agent.readinessPort, "/readyz").0 == 200 })
        let metrics = agent.http(agent.monitoringPort, "/metrics").1
        #expect(metrics.contains(#"istio_cni_installs_total{result="SUCCESS"}"#))
        #expect(metrics.contains("istio_cni_install_ready 1"))
        #expect(agent.log.contains("installed \(node.netDirectory)/10-bridge.conflist"))
        #expect(!agent.log.contains(emulator.token), "tokens never reach the log")
    }

    @Test func restoresWhatOthersRewriteDeleteOrRename() throws {
        let node = try NodeFixture()
        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList)
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        let agent = try AgentProcess(node: node, emulator: emulator)
        try agent.start()
        defer { agent.kill() }
        #expect(AgentProcess.eventually(within: 3) { holdsBridgeAndOneEntryLast(node, "10-bridge.conflist") })

        // The primary CNI rewrites its config and drops our entry (aws-node, Calico, Canal do this).
        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList)
        #expect(AgentProcess.eventually(within: 1) { holdsBridgeAndOneEntryLast(node, "10-bridge.conflist") }, "entry back within 1 s")

        // Someone deletes our binary.
        try FileManager.default.removeItem(atPath: node.binDirectory + "/istio-cni")
        #expect(AgentProcess.eventually(within: 1) { node.read("bin/istio-cni") == node.read("image-bin/istio-cni") })

        // Cilium renames the other configs and writes its own at a higher priority.
        try FileManager.default.moveItem(atPath: node.netDirectory + "/10-bridge.conflist", toPath: node.netDirectory + "/10-bridge.conflist.cilium_bak")
        try node.write("net.d/05-cilium.conflist", NodeFixture.bridgeList)
        #expect(AgentProcess.eventually(within: 1) { holdsBridgeAndOneEntryLast(node, "05-cilium.conflist") }, "follows the new primary within 1 s")

        // An identical rewrite of an installed file is no change: nothing is written.
        let inode = node.inode("net.d/05-cilium.conflist")
        let content = try #require(node.read("net.d/05-cilium.conflist"))
        try node.write("net.d/05-cilium.conflist", content)
        let rewritten = node.inode("net.d/05-cilium.conflist")
        usleep(300_000)
        #expect(node.inode("net.d/05-cilium.conflist") == rewritten && rewritten == inode, "written in place by the test, not replaced by the agent")
    }

    @Test func aComponentThatKeepsRevertingIsThrottledAndNamed() throws {
        let node = try NodeFixture()
        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList)
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        let agent = try AgentProcess(node: node, emulator: emulator)
        try agent.start()
        defer { agent.kill() }
        #expect(AgentProcess.eventually(within: 3) { holdsBridgeAndOneEntryLast(node, "10-bridge.conflist") })

        // Another process rewrites the primary without our entry every 50 ms for 3 s, atomically as
        // well-behaved CNIs do; meanwhile the file must always be the primary's, never empty or doubled.
        let fighter = try BackgroundProcess(["sh", "-c", """
            echo ready; end=$(($(date +%s) + 3))
            while [ $(date +%s) -lt $end ]; do
              printf '%s' '\(NodeFixture.bridgeList.replacingOccurrences(of: "\n", with: " "))' > \(node.netDirectory)/.tmp && mv \(node.netDirectory)/.tmp \(node.netDirectory)/10-bridge.conflist
              sleep 0.05
            done
            """])
        var observations = 0
        var problems: [String] = []
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline {
            if let text = node.read("net.d/10-bridge.conflist") {
                observations += 1
                guard let plugins = (try? JSONParser.parse(text))?["plugins"]?.arrayValue else { problems.append("not JSON: \(text.prefix(40))"); continue }
                if plugins.first?["type"] != "bridge" { problems.append("primary's plugins lost") }
                if plugins.filter({ $0["type"] == "istio-cni" }).count > 1 { problems.append("duplicate entries") }
            }
            usleep(5_000)
        }
        fighter.stop()
        #expect(problems.isEmpty, "\(problems.prefix(3))")
        #expect(observations > 100)
        #expect(agent.log.contains("another component keeps reverting \(node.netDirectory)/10-bridge.conflist"))
        // Once the fight is over, the entry is restored (after the current back-off, at most 30 s).
        #expect(AgentProcess.eventually(within: 35) { holdsBridgeAndOneEntryLast(node, "10-bridge.conflist") })
    }

    @Test func followsTokenRotationBySymlinkSwap() throws {
        let node = try NodeFixture()
        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList)
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        // The kubelet's projected-volume layout: token -> ..data/token, ..data -> ..<timestamp>
        let sa = node.serviceAccountDirectory
        try FileManager.default.removeItem(atPath: sa + "/token")
        try FileManager.default.removeItem(atPath: sa + "/ca.crt")
        try FileManager.default.createDirectory(atPath: sa + "/..2026_12_02_01", withIntermediateDirectories: true)
        try node.write("sa/..2026_12_02_01/token", emulator.token)
        try node.write("sa/..2026_12_02_01/ca.crt", emulator.identity.caCertificatePEM)
        try FileManager.default.createSymbolicLink(atPath: sa + "/..data", withDestinationPath: "..2026_12_02_01")
        try FileManager.default.createSymbolicLink(atPath: sa + "/token", withDestinationPath: "..data/token")
        try FileManager.default.createSymbolicLink(atPath: sa + "/ca.crt", withDestinationPath: "..data/ca.crt")
        let agent = try AgentProcess(node: node, emulator: emulator, writeServiceAccount: false)
        agent.extraEnvironment["KUBECONFIG_MODE"] = "0640"
        try agent.start()
        defer { agent.kill() }
        #expect(AgentProcess.eventually(within: 3) { node.read("run/istio-cni-kubeconfig")?.contains(emulator.token) == true })
        #expect(node.mode("run/istio-cni-kubeconfig") == 0o640)

        try FileManager.default.createDirectory(atPath: sa + "/..2026_12_02_02", withIntermediateDirectories: true)
        try node.write("sa/..2026_12_02_02/token", "rotated-token")
        try node.write("sa/..2026_12_02_02/ca.crt", emulator.identity.caCertificatePEM)
        try FileManager.default.createSymbolicLink(atPath: sa + "/..data_tmp", withDestinationPath: "..2026_12_02_02")
        #expect(rename(sa + "/..data_tmp", sa + "/..data") == 0, "the atomic swap the kubelet does")
        #expect(AgentProcess.eventually(within: 1) { node.read("run/istio-cni-kubeconfig")?.contains("rotated-token") == true })
        #expect(!agent.log.contains("rotated-token"))
    }

    @Test func killedWhileWritingLeavesEveryFileWhole() throws {
        let node = try NodeFixture(pluginBytes: [UInt8](repeating: 0x41, count: 4 * 1024 * 1024))
        try node.write("net.d/10-calico.conf", NodeFixture.calicoConf)
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        let agent = try AgentProcess(node: node, emulator: emulator)
        for round in 0..<8 {
            // Give the agent something to write each round: a new plugin build and a rewritten primary.
            try node.write("image-bin/istio-cni", String(repeating: String(round), count: 4 * 1024 * 1024), mode: 0o755)
            if let list = node.read("net.d/10-calico.conflist"), let stripped = ChainedConfigEditor.removingEntry(from: Array(list.utf8)) {
                try node.write("net.d/10-calico.conflist", String(decoding: stripped, as: UTF8.self))
            }
            try agent.start()
            usleep(UInt32.random(in: 0...150_000))
            agent.kill()
            for name in node.names("net.d") where !name.hasPrefix(".") {
                let text = try #require(node.read("net.d/" + name))
                let parsed = try? JSONParser.parse(text)
                #expect(parsed != nil, "round \(round): \(name) is not whole JSON")
                let types = (parsed?["plugins"]?.arrayValue ?? [parsed ?? .null]).compactMap { $0["type"]?.stringValue }
                #expect(types.first == "calico", "round \(round): \(name) lost the primary plugin")
            }
            if let binary = FileManager.default.contents(atPath: node.binDirectory + "/istio-cni") {
                #expect(binary.count == 4 * 1024 * 1024 && Set(binary).count == 1, "round \(round): the plugin is one whole version")
            }
            if let kubeconfig = node.read("run/istio-cni-kubeconfig") { #expect((try? JSONParser.parse(kubeconfig)) != nil) }
        }
        try agent.start()
        defer { agent.kill() }
        #expect(AgentProcess.eventually(within: 3) { agent.http(agent.readinessPort, "/readyz").0 == 200 })
        #expect(node.names("bin") == ["istio-cni", "istio-cni-libs"], "temporaries of killed agents are cleaned up")
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
