import Foundation
import JSON
import Testing
import TestSupport

/// `install-cni validate` (the istio-validation init container) in real pod namespaces, with the
/// plugin's real rules and without them.
@Suite(.serialized) struct ValidationCheckTests {
    func validate(in namespace: TestNamespace, _ extra: [String] = [], environment: [String] = []) throws -> (CommandResult, TimeInterval) {
        let started = Date()
        let result = try namespace.run((environment.isEmpty ? [] : ["env"] + environment) + [Paths.built("install-cni"), "validate"] + extra,
                                       check: false)
        return (result, Date().timeIntervalSince(started))
    }

    @Test func passesWithThePluginsRulesAndExits126WithoutThem() throws {
        let harness = try PluginHarness()
        let network = try PodNetwork()
        defer { network.delete() }
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let added = try harness.run("ADD", netns: network.pod.path)
        #expect(added.status == 0, "\(added.stdout) \(added.stderr)")

        let (passed, _) = try validate(in: network.pod)
        #expect(passed.status == 0, "\(passed.stderr)")
        #expect(passed.stdout.contains("validation passed") && passed.stdout.contains("as uid 1337"), "started as root, it probes as the proxy user")

        let deleted = try harness.run("DEL", netns: network.pod.path)
        #expect(deleted.status == 0)
        let (failed, seconds) = try validate(in: network.pod)
        #expect(failed.status == 126, "\(failed.stdout) \(failed.stderr)")
        #expect(seconds < 6, "gives up after its 5 s timeout")
        #expect(failed.stderr.contains("traffic redirection is not in place") && failed.stderr.contains("repair.deletePods"))
    }

    @Test func probesIPv6TooForADualStackPod() throws {
        let harness = try PluginHarness()
        let network = try PodNetwork(ipv6: true)
        defer { network.delete() }
        try harness.addPod(PodFixtures.meshPod(name: "web", proxyEnvironment: ["ISTIO_DUAL_STACK": "true"]))
        #expect(try harness.run("ADD", netns: network.pod.path).status == 0)
        let (passed, _) = try validate(in: network.pod, environment: ["ISTIO_DUAL_STACK=true"])
        #expect(passed.status == 0, "\(passed.stderr)")
        #expect(passed.stdout.contains("127.0.0.6:15002 and ::6:15002"))
    }

    /// Without ISTIO_DUAL_STACK a dual-stack pod gets IPv4 interception only (Istio's rule), and the
    /// check probes what the plugin wrote.
    @Test func probesIPv4OnlyForADualStackPodWithoutTheFlag() throws {
        let harness = try PluginHarness()
        let network = try PodNetwork(ipv6: true)
        defer { network.delete() }
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        #expect(try harness.run("ADD", netns: network.pod.path).status == 0)
        let (passed, _) = try validate(in: network.pod)
        #expect(passed.status == 0, "\(passed.stderr)")
        #expect(passed.stdout.contains("connections to 127.0.0.6:15002 as uid"))
    }

    @Test func itsOwnUsageErrorsExit1NotTheBrokenPodCode() throws {
        let namespace = try TestNamespace("validate")
        defer { namespace.delete() }
        let (badTimeout, _) = try validate(in: namespace, ["--timeout", "0"])
        #expect(badTimeout.status == 1 && badTimeout.stderr.contains("--timeout 0"))
        let (unknown, _) = try validate(in: namespace, ["--bogus"])
        #expect(unknown.status == 1)
    }
}
