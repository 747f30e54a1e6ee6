import Foundation
import JSON
import Testing
import TestSupport

/// Bad input of every kind: each must give the right CNI error code, a message naming the culprit,
/// exit status 1 (not a crash), and leave no rules in the pod's namespace.
@Suite struct PluginBadInputTests {
    func expectRejected(_ outcome: PluginHarness.Outcome, code: Int, mentioning fragments: [String],
                        untouched namespace: TestNamespace? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(outcome.status == 1, "exit status \(outcome.status), stderr: \(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(outcome.errorCode == code, "\(outcome.stdout)", sourceLocation: sourceLocation)
        let text = outcome.errorMessage + " " + (outcome.json?["details"]?.stringValue ?? "")
        for fragment in fragments {
            #expect(text.contains(fragment), "message \"\(text)\" does not mention \(fragment)", sourceLocation: sourceLocation)
        }
        #expect(outcome.stdout.split(separator: "\n").count == 1, "stdout must hold exactly one document", sourceLocation: sourceLocation)
        if let namespace {
            #expect(try namespace.run(["nft", "list", "tables"]).stdout.isEmpty, "rules were left behind", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [
        ("", 6, "empty"),
        ("{\"cniVersion\":\"1.0.0\",\"name\":", 6, "not valid JSON"),
        ("[1,2,3]", 6, "must be a JSON object, got an array"),
        ("{\"cniVersion\":\"1.0.0\",\"type\":\"istio-cni\"}", 7, "missing \"name\""),
        ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}", 7, "missing \"type\""),
        ("{\"cniVersion\":\"1.0.0\",\"name\":5,\"type\":\"istio-cni\"}", 7, "\"name\""),
        ("{\"cniVersion\":\"0.5.0\",\"name\":\"n\",\"type\":\"istio-cni\"}", 1, "0.5.0"),
        ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"istio-cni\",\"prevResult\":{\"ip4\":{\"ip\":\"203.0.113.6/24\"}}}", 6, "prevResult has \"ip4\""),
        ("{\"cniVersion\":\"0.4.0\",\"name\":\"n\",\"type\":\"istio-cni\",\"prevResult\":{\"ips\":[{\"address\":\"203.0.113.6/24\"}]}}", 6, "prevResult.ips[0].version"),
        ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"istio-cni\",\"prevResult\":{\"ips\":[{\"address\":\"300.1.1.1/24\"}]}}", 6, "300.1.1.1/24"),
        ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"istio-cni\",\"exclude_namespaces\":\"kube-system\"}", 7, "exclude_namespaces"),
        ("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"istio-cni\",\"pod_lookup_timeout_seconds\":-1}", 7, "pod_lookup_timeout_seconds"),
    ])
    func malformedConfiguration(stdin: String, code: Int, fragment: String) throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let namespace = try TestNamespace("badcfg")
        try expectRejected(try harness.run("ADD", netns: namespace.path, stdin: stdin), code: code, mentioning: [fragment], untouched: namespace)
    }

    @Test func badEnvironment() throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let namespace = try TestNamespace("badenv")
        try expectRejected(try harness.run("ADD", netns: nil), code: 4, mentioning: ["CNI_NETNS"], untouched: namespace)
        try expectRejected(try harness.run("FROB", netns: namespace.path), code: 4, mentioning: ["CNI_COMMAND", "FROB"])
        try expectRejected(try harness.run("ADD", netns: namespace.path, environment: ["CNI_CONTAINERID": "bad id!"]),
                           code: 4, mentioning: ["CNI_CONTAINERID"], untouched: namespace)
        try expectRejected(try harness.run("ADD", netns: namespace.path, environment: ["CNI_IFNAME": "much-too-long-name0"]),
                           code: 4, mentioning: ["CNI_IFNAME"], untouched: namespace)
        try expectRejected(try harness.run("ADD", netns: namespace.path, environment: ["CNI_ARGS": "K8S_POD_NAME"]),
                           code: 4, mentioning: ["CNI_ARGS", "K8S_POD_NAME"], untouched: namespace)
        try expectRejected(try harness.run("ADD", netns: namespace.path, environment: ["CNI_ARGS": "K8S_POD_NAME=web;FOO=bar"]),
                           code: 4, mentioning: ["CNI_ARGS", "FOO"], untouched: namespace)
        try expectRejected(try harness.run("ADD", netns: namespace.path, environment: ["CNI_ARGS": "IgnoreUnknown=maybe;K8S_POD_NAME=web"]),
                           code: 4, mentioning: ["IgnoreUnknown"], untouched: namespace)
        try expectRejected(try harness.run("ADD", netns: namespace.path, pod: "Web_1"), code: 4, mentioning: ["K8S_POD_NAME", "Web_1"], untouched: namespace)
        try expectRejected(try harness.run("ADD", netns: namespace.path, pod: "web", namespace: "../etc"),
                           code: 4, mentioning: ["K8S_POD_NAMESPACE"], untouched: namespace)
    }

    @Test func badNetworkNamespaces() throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        try expectRejected(try harness.run("ADD", netns: "/run/netns/icni-t-does-not-exist"), code: 3,
                           mentioning: ["/run/netns/icni-t-does-not-exist", "does not exist"])
        let regularFile = harness.runDirectory.appendingPathComponent("not-a-netns").path
        #expect(FileManager.default.createFile(atPath: regularFile, contents: Data("x".utf8)))
        try expectRejected(try harness.run("ADD", netns: regularFile), code: 4, mentioning: ["CNI_NETNS", "not a network namespace"])
        let hostTablesBefore = try Command.output("nft", "list", "tables")
        try expectRejected(try harness.run("ADD", netns: "/proc/self/ns/net"), code: 4, mentioning: ["CNI_NETNS", "plugin's own network namespace"])
        try expectRejected(try harness.run("DEL", netns: "/proc/self/ns/net"), code: 4, mentioning: ["CNI_NETNS"])
        #expect(try Command.output("nft", "list", "tables") == hostTablesBefore)
    }

    @Test func unusableKubeconfig() throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let namespace = try TestNamespace("kcfg")
        let kubeconfig = harness.runDirectory.appendingPathComponent("istio-cni-kubeconfig")
        let fast = harness.config(extra: [("pod_lookup_timeout_seconds", .number("1"))])

        try "apiVersion: v1\nclusters: [[[\n".write(to: kubeconfig, atomically: true, encoding: .utf8)
        try expectRejected(try harness.run("ADD", netns: namespace.path, config: fast), code: 7, mentioning: ["kubeconfig", kubeconfig.path], untouched: namespace)

        try FileManager.default.removeItem(at: kubeconfig)
        try FileManager.default.createDirectory(at: kubeconfig, withIntermediateDirectories: false)
        try expectRejected(try harness.run("ADD", netns: namespace.path, config: fast), code: 5, mentioning: ["cannot be read"], untouched: namespace)

        try FileManager.default.removeItem(at: kubeconfig)
        try expectRejected(try harness.run("ADD", netns: namespace.path, config: fast), code: 11,
                           mentioning: ["default/web", "does not exist"], untouched: namespace)
    }

    @Test func unusableAPIServer() throws {
        let harness = try PluginHarness()
        let namespace = try TestNamespace("api")
        let fast = harness.config(extra: [("pod_lookup_timeout_seconds", .number("1"))])

        try expectRejected(try harness.run("ADD", netns: namespace.path, config: fast), code: 11,
                           mentioning: ["default/web", "404", "pods \"web\" not found"], untouched: namespace)

        try harness.addPod(PodFixtures.meshPod(name: "web"))
        harness.emulator.injectFault(.garbageBody, count: nil)
        try expectRejected(try harness.run("ADD", netns: namespace.path, config: fast), code: 11, mentioning: ["not JSON"], untouched: namespace)
        harness.emulator.clearFaults()

        harness.emulator.injectFault(.hang, count: nil)
        try expectRejected(try harness.run("ADD", netns: namespace.path, config: fast), code: 11, mentioning: ["timed out"], untouched: namespace)
        harness.emulator.clearFaults()

        try harness.emulator.kubeconfig(token: "stale-token").write(to: harness.runDirectory.appendingPathComponent("istio-cni-kubeconfig"), atomically: true, encoding: .utf8)
        try expectRejected(try harness.run("ADD", netns: namespace.path, config: fast), code: 11, mentioning: ["401", "Unauthorized"], untouched: namespace)

        let closed = try RefusingPort()
        try harness.emulator.kubeconfig(server: "https://127.0.0.1:\(closed.port)")
            .write(to: harness.runDirectory.appendingPathComponent("istio-cni-kubeconfig"), atomically: true, encoding: .utf8)
        try expectRejected(try harness.run("ADD", netns: namespace.path, config: fast), code: 11,
                           mentioning: ["connecting to 127.0.0.1:\(closed.port)", "refused"], untouched: namespace)
    }

    @Test func retriesRideOutTransientAPIFailures() throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let namespace = try TestNamespace("retry")
        harness.emulator.injectFault(.status(500, retryAfterSeconds: nil), count: 2)
        harness.emulator.injectFault(.status(429, retryAfterSeconds: 1), count: 1)
        let add = try harness.run("ADD", netns: namespace.path, config: harness.config(extra: [("pod_lookup_timeout_seconds", .number("10"))]))
        #expect(add.status == 0, "\(add.stdout)")
        #expect(harness.emulator.requests.count == 4)
        #expect(add.stderr.contains("pod lookup failed, retrying"))
        #expect(try namespace.nftListing().contains("istio-proxy-nat"))
    }

    @Test(arguments: [
        ("traffic.sidecar.istio.io/excludeInboundPorts", "80;90", "\"80;90\" is not a port"),
        ("traffic.sidecar.istio.io/excludeInboundPorts", "-1", "\"-1\" is not a port"),
        ("traffic.sidecar.istio.io/excludeOutboundPorts", "70000", "\"70000\" is not a port"),
        ("traffic.sidecar.istio.io/includeInboundPorts", "80,,90", "entry 2 is empty"),
        ("traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/33", "\"10.0.0.0/33\" is not a CIDR"),
        ("traffic.sidecar.istio.io/includeOutboundIPRanges", "10.0.0.1", "\"10.0.0.1\" is not a CIDR"),
        ("traffic.sidecar.istio.io/excludeOutboundIPRanges", "*", "'*' is not allowed"),
        ("traffic.sidecar.istio.io/excludeInterfaces", "eth0;rm -rf", "is not an interface name"),
        ("sidecar.istio.io/interceptionMode", "redirect", "must be REDIRECT, TPROXY or NONE"),
    ])
    func invalidAnnotation(key: String, value: String, fragment: String) throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web", annotations: [key: value]))
        let namespace = try TestNamespace("annot")
        try expectRejected(try harness.run("ADD", netns: namespace.path), code: 7, mentioning: [key, fragment], untouched: namespace)
    }

    @Test func annotationListsMayBePaddedWithSpaces() throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web", annotations: ["traffic.sidecar.istio.io/excludeInboundPorts": " 3306 , 5432 "]))
        let namespace = try TestNamespace("spaces")
        #expect(try harness.run("ADD", netns: namespace.path).status == 0)
        #expect(try namespace.nftListing().contains("tcp dport 5432 counter"))
    }
}
