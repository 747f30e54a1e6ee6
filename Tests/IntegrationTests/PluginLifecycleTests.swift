import Foundation
import JSON
import Testing
import TestSupport

/// ADD, CHECK, DEL, VERSION, STATUS and GC through the real executable, as a runtime calls them.
@Suite struct PluginLifecycleTests {
    @Test(arguments: Capture.all)
    func addCheckDeleteCheck(capture: Capture) throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web", annotations: capture.annotations))
        let namespace = try TestNamespace("life")
        let config = harness.config(extra: capture.configuration)

        #expect(try harness.run("ADD", netns: namespace.path, config: config).status == 0)
        let check = try harness.run("CHECK", netns: namespace.path, config: config)
        #expect(check.status == 0, "\(check.stdout)")
        #expect(check.stdout.isEmpty)

        let delete = try harness.run("DEL", netns: namespace.path, config: config)
        #expect(delete.status == 0)
        #expect(delete.stdout.isEmpty)
        #expect(try Capture.holdsNoRules(namespace))
        #expect(try namespace.run(["ip", "rule"]).stdout.contains("lookup 133") == false, "DEL took TPROXY's route along")

        let checkAfterDelete = try harness.run("CHECK", netns: namespace.path, config: config)
        #expect(checkAfterDelete.status == 1)
        #expect(checkAfterDelete.errorCode == 100)
        let missing = switch capture.backend {
        case .nftables: "table inet istio-proxy-nat is missing"
        case .iptablesLegacy: "iptables-legacy -t nat: chain ISTIO_INBOUND is missing"
        case .iptablesNft: "iptables-nft -t nat: chain ISTIO_INBOUND is missing"
        }
        let details = checkAfterDelete.json?["details"]?.stringValue ?? ""
        #expect(details.contains(missing), "\(details)")
    }

    @Test func checkNamesATamperedRule() throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let namespace = try TestNamespace("tamper")
        #expect(try harness.run("ADD", netns: namespace.path).status == 0)
        // Remove the outbound catch-all the way an operator (or another tool) might.
        let listing = try namespace.run(["nft", "-a", "list", "chain", "inet", "istio-proxy-nat", "istio-output"]).stdout
        let line = try #require(listing.split(separator: "\n").first { $0.contains("jump istio-redirect") })
        let handle = try #require(line.split(separator: " ").last)
        try namespace.run(["nft", "delete", "rule", "inet", "istio-proxy-nat", "istio-output", "handle", String(handle)])

        let check = try harness.run("CHECK", netns: namespace.path)
        #expect(check.status == 1)
        #expect(check.errorMessage.contains("chain inet istio-proxy-nat istio-output: rule 11 `counter jump istio-redirect` is missing"),
                "\(check.errorMessage)")
    }

    @Test func checkNamesATamperedIPTablesRuleAndATamperedRoute() throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web", annotations: ["sidecar.istio.io/interceptionMode": "TPROXY"]))
        let namespace = try TestNamespace("tamperi")
        let config = harness.config(extra: Capture(.iptablesNft).configuration)
        #expect(try harness.run("ADD", netns: namespace.path, config: config).status == 0)
        try namespace.run(["iptables-nft", "-t", "nat", "-D", "ISTIO_OUTPUT", "-j", "ISTIO_REDIRECT"])
        try namespace.run(["ip", "route", "del", "local", "0.0.0.0/0", "dev", "lo", "table", "133"])

        let check = try harness.run("CHECK", netns: namespace.path, config: config)
        #expect(check.status == 1)
        #expect(check.errorMessage.contains("iptables-nft -t nat ISTIO_OUTPUT: rule 11 `-j ISTIO_REDIRECT` is missing"), "\(check.errorMessage)")
        #expect(check.json?["details"]?.stringValue?.contains("route `local 0.0.0.0/0 dev lo table 133` is missing") == true)
    }

    @Test func checkExpectsNoTablesForANonMeshPod() throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.plainPod(name: "plain"))
        let namespace = try TestNamespace("cplain")
        #expect(try harness.run("CHECK", netns: namespace.path, pod: "plain").status == 0)
        try namespace.run(["nft", "add", "table", "inet", "istio-proxy-nat"])
        let check = try harness.run("CHECK", netns: namespace.path, pod: "plain")
        #expect(check.status == 1)
        #expect(check.errorMessage.contains("unexpected table inet istio-proxy-nat"))
    }

    @Test func deleteSucceedsInEveryDegenerateCase() throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let namespace = try TestNamespace("del")
        #expect(try harness.run("ADD", netns: namespace.path).status == 0)
        let noPrevResult = harness.config(prevResult: nil)
        #expect(try harness.run("DEL", netns: namespace.path, config: noPrevResult).status == 0)
        #expect(try harness.run("DEL", netns: namespace.path, config: noPrevResult).status == 0, "second DEL")
        #expect(try harness.run("DEL", netns: nil).status == 0, "no CNI_NETNS")
        #expect(try harness.run("DEL", netns: "/run/netns/icni-t-gone-0000").status == 0, "missing namespace")
        let garbage = try harness.run("DEL", netns: namespace.path, config: "{not json")
        #expect(garbage.status == 0, "DEL with an unusable config still succeeds")
        #expect(garbage.stderr.contains("ignoring unusable configuration"))
        #expect(try harness.run("DEL", netns: namespace.path, pod: nil, namespace: nil).status == 0, "no Kubernetes args")
    }

    @Test func versionListsEverySpecVersion() throws {
        let harness = try PluginHarness()
        for requested in ["0.2.0", "1.0.0", "1.1.0"] {
            let outcome = try harness.run("VERSION", netns: nil, stdin: #"{"cniVersion":"\#(requested)"}"#)
            #expect(outcome.status == 0)
            #expect(outcome.json?["cniVersion"]?.stringValue == requested)
            #expect(outcome.json?["supportedVersions"] == .array(["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] as [JSONValue]))
        }
        #expect(try harness.run("VERSION", netns: nil, stdin: "").json?["cniVersion"]?.stringValue == "1.1.0")
    }

    @Test func statusReflectsWhetherTheKubeconfigIsUsable() throws {
        let harness = try PluginHarness()
        #expect(try harness.run("STATUS", netns: nil, config: harness.config(cniVersion: "1.1.0")).status == 0)
        let tooOld = try harness.run("STATUS", netns: nil, config: harness.config(cniVersion: "1.0.0"))
        #expect(tooOld.errorCode == 1)
        try FileManager.default.removeItem(at: harness.runDirectory.appendingPathComponent("istio-cni-kubeconfig"))
        let missing = try harness.run("STATUS", netns: nil, config: harness.config(cniVersion: "1.1.0"))
        #expect(missing.status == 1)
        #expect(missing.errorCode == 50)
        #expect(missing.errorMessage.contains("istio-cni-kubeconfig does not exist"))
    }

    @Test func garbageCollectAcceptsBothAttachmentKeys() throws {
        let harness = try PluginHarness()
        let attachments = JSONValue.array([.object(JSONObject([("containerID", "abc"), ("ifname", "eth0")]))])
        for key in ["cni.dev/valid-attachments", "cni.dev/attachments"] {
            let outcome = try harness.run("GC", netns: nil, config: harness.config(cniVersion: "1.1.0", extra: [(key, attachments)]))
            #expect(outcome.status == 0, "\(outcome.stdout)")
            #expect(outcome.stdout.isEmpty)
        }
        let malformed = try harness.run("GC", netns: nil, config: harness.config(cniVersion: "1.1.0", extra: [("cni.dev/attachments", "nope")]))
        #expect(malformed.errorCode == 7)
    }

    @Test func ownAgentPodAndNonKubernetesSandboxesNeedNoAPI() throws {
        let harness = try PluginHarness()
        harness.emulator.stop()
        let namespace = try TestNamespace("agent")
        let own = try harness.run("ADD", netns: namespace.path, pod: "istio-cni-node-x7k2p", namespace: "istio-system")
        #expect(own.status == 0)
        #expect(own.stderr.contains("node agent's own pod"))
        let podman = try harness.run("ADD", netns: namespace.path, pod: "ptest1", namespace: nil)
        #expect(podman.status == 0)
        #expect(podman.stderr.contains("not a Kubernetes pod"))
        let excluded = try harness.run("ADD", netns: namespace.path, pod: "coredns-1", namespace: "kube-system")
        #expect(excluded.status == 0)
        #expect(try namespace.run(["nft", "list", "tables"]).stdout.isEmpty)
        #expect(harness.emulator.requests.isEmpty)
    }

    @Test func interceptionModeNoneIsASuccessWithoutRules() throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "none", annotations: ["sidecar.istio.io/interceptionMode": "NONE"]))
        let namespace = try TestNamespace("none")
        let add = try harness.run("ADD", netns: namespace.path, pod: "none")
        #expect(add.status == 0)
        #expect(add.stderr.contains("interceptionMode is NONE"))
        #expect(try namespace.run(["nft", "list", "tables"]).stdout.isEmpty)
    }

    @Test(arguments: [
        ("sidecar.istio.io/inject", "false", "label"),
        ("sidecar.istio.io/inject", "false", "annotation"),
    ])
    func injectionDisabledPodsAreSkipped(key: String, value: String, place: String) throws {
        let harness = try PluginHarness()
        let pod = place == "label" ? PodFixtures.meshPod(name: "off", labels: [key: value]) : PodFixtures.meshPod(name: "off", annotations: [key: value])
        try harness.addPod(pod)
        let namespace = try TestNamespace("inj")
        let add = try harness.run("ADD", netns: namespace.path, pod: "off")
        #expect(add.status == 0)
        #expect(add.stderr.contains("disables injection"))
        #expect(try namespace.run(["nft", "list", "tables"]).stdout.isEmpty)
    }
}
