import Foundation
import JSON
@testable import NodeAgent
import Testing

@Suite struct InstallerTests {
    @Test func installsEverythingOnceAndLeavesIdenticalFilesAlone() throws {
        let node = try NodeFixture()
        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList, mode: 0o640)
        try node.write("bin/.istio-cni.istio-cni-tmp.99.abc", "half a binary from a killed agent")
        let installer = Installer(configuration: node.configuration)
        let first = try installer.reconcile()
        #expect(Set(first.written) == [node.binDirectory + "/istio-cni", node.binDirectory + "/istio-cni-libs/libmnl.so.0",
                                       node.runDirectory + "/istio-cni-kubeconfig", node.netDirectory + "/10-bridge.conflist"])
        #expect(installer.problems().isEmpty)
        #expect(node.names("bin") == ["istio-cni", "istio-cni-libs"], "the stale temporary file is gone")
        #expect(node.mode("bin/istio-cni") == 0o755 && node.read("bin/istio-cni") == node.read("image-bin/istio-cni"))
        #expect(node.mode("net.d/10-bridge.conflist") == 0o640, "the primary's mode is kept")
        #expect(node.mode("run/istio-cni-kubeconfig") == 0o600)
        let list = try JSONParser.parse(try #require(node.read("net.d/10-bridge.conflist")))
        #expect(list["plugins"]?.arrayValue?.last?["type"] == "istio-cni" && list["vendorKey"]?["kept"] == true)

        let inodes = ["bin/istio-cni", "net.d/10-bridge.conflist", "run/istio-cni-kubeconfig"].map(node.inode)
        #expect(try installer.reconcile().written.isEmpty, "nothing differs, nothing is written")
        #expect(["bin/istio-cni", "net.d/10-bridge.conflist", "run/istio-cni-kubeconfig"].map(node.inode) == inodes)
    }

    @Test func kubeconfigFollowsTheServiceAccountAndBracketsIPv6() throws {
        let node = try NodeFixture()
        node.configuration.kubernetesServiceHost = "fd00:10:96::1"
        node.configuration.kubeconfigMode = 0o640
        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList)
        let installer = Installer(configuration: node.configuration)
        _ = try installer.reconcile()
        let kubeconfig = try JSONParser.parse(try #require(node.read("run/istio-cni-kubeconfig")))
        #expect(kubeconfig["clusters"]?.arrayValue?.first?["cluster"]?["server"] == "https://[fd00:10:96::1]:443")
        #expect(kubeconfig["users"]?.arrayValue?.first?["user"]?["token"] == "token-one")
        #expect(kubeconfig["clusters"]?.arrayValue?.first?["cluster"]?["certificate-authority-data"]?.stringValue?.isEmpty == false)
        #expect(node.mode("run/istio-cni-kubeconfig") == 0o640)
        try node.write("sa/token", "token-two")
        #expect(try installer.reconcile().written == [node.runDirectory + "/istio-cni-kubeconfig"])
        #expect(node.read("run/istio-cni-kubeconfig")?.contains("token-two") == true)
    }

    @Test func aSingleConfBecomesAListAndIsTurnedBack() throws {
        let node = try NodeFixture()
        try node.write("net.d/10-calico.conf", NodeFixture.calicoConf, mode: 0o600)
        let installer = Installer(configuration: node.configuration)
        let pass = try installer.reconcile()
        #expect(pass.configPath == node.netDirectory + "/10-calico.conflist")
        #expect(node.names("net.d") == ["10-calico.conflist"])
        #expect(node.mode("net.d/10-calico.conflist") == 0o600)
        // A restarted agent (new Installer, state from the run dir) still knows how to undo it.
        let removed = Installer(configuration: node.configuration).uninstall().removed
        #expect(removed.contains(node.netDirectory + "/10-calico.conflist"))
        #expect(node.names("net.d") == ["10-calico.conf"] && node.read("net.d/10-calico.conf") == NodeFixture.calicoConf)
        #expect(node.names("bin").isEmpty && node.names("run").isEmpty)
    }

    @Test func aHigherPriorityConfigTakesOurEntryAlong() throws {
        let node = try NodeFixture()
        try node.write("net.d/20-bridge.conflist", NodeFixture.bridgeList)
        let installer = Installer(configuration: node.configuration)
        _ = try installer.reconcile()
        try node.write("net.d/05-cilium.conflist", NodeFixture.bridgeList)
        #expect(!installer.problems().isEmpty, "the primary changed: not installed until we follow it")
        let pass = try installer.reconcile()
        #expect(pass.configPath == node.netDirectory + "/05-cilium.conflist")
        #expect(pass.removed == [node.netDirectory + "/20-bridge.conflist"])
        #expect(try JSONParser.parse(try #require(node.read("net.d/20-bridge.conflist"))) == JSONParser.parse(NodeFixture.bridgeList))
        #expect(installer.problems().isEmpty)
    }

    @Test func standaloneWritesOnlyItsOwnFile() throws {
        let node = try NodeFixture(chained: false)
        try node.write("net.d/00-multus.conf", #"{"cniVersion":"0.3.1","name":"multus","type":"multus"}"#)
        let installer = Installer(configuration: node.configuration)
        _ = try installer.reconcile()
        #expect(node.names("net.d") == ["00-multus.conf", "istio-cni.conf"])
        #expect(node.read("net.d/00-multus.conf") == #"{"cniVersion":"0.3.1","name":"multus","type":"multus"}"#)
        let standalone = try JSONParser.parse(try #require(node.read("net.d/istio-cni.conf")))
        #expect(standalone["cniVersion"] == "0.3.1" && standalone["type"] == "istio-cni" && standalone["name"] == "istio-cni")
        #expect(installer.problems().isEmpty)
        _ = installer.uninstall()
        #expect(node.names("net.d") == ["00-multus.conf"])
    }

    @Test func binariesHonourSkipAndUpdateSettings() throws {
        let node = try NodeFixture()
        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList)
        try node.write("bin/istio-cni", "an older plugin", mode: 0o755)
        node.configuration.updateCNIBinaries = false
        _ = try Installer(configuration: node.configuration).reconcile()
        #expect(node.read("bin/istio-cni") == "an older plugin", "UPDATE_CNI_BINARIES=false keeps an existing binary")
        node.configuration.updateCNIBinaries = true
        _ = try Installer(configuration: node.configuration).reconcile()
        #expect(node.read("bin/istio-cni") == node.read("image-bin/istio-cni"))
        let skipping = try NodeFixture()
        skipping.configuration.skipCNIBinaries = ["istio-cni"]
        #expect(throws: InstallError.self, "skipping the only binary leaves nothing to install") {
            try Installer(configuration: skipping.configuration).reconcile()
        }
    }

    @Test func failuresNameTheirStep() throws {
        let node = try NodeFixture()
        try node.write("net.d/10-bridge.conflist", NodeFixture.bridgeList)
        node.configuration.kubernetesServiceHost = nil
        #expect {
            try Installer(configuration: node.configuration).reconcile()
        } throws: { error in
            (error as? InstallError)?.step == .kubeconfig && "\(error)".contains("KUBERNETES_SERVICE_HOST")
        }
        node.configuration.cniBinDirs = [node.root.path + "/no-such-bin"]
        #expect {
            try Installer(configuration: node.configuration).reconcile()
        } throws: { error in
            (error as? InstallError)?.step == .binaries && "\(error)".contains("no-such-bin")
        }
    }
}
