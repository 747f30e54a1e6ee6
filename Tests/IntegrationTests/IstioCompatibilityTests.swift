import Foundation
import JSON
import KubeEmulator
import Testing
import TestSupport

/// Values and settings Istio accepts, run through the real plugin into real namespaces: what the
/// kernel holds afterwards is what Istio's own rules would make of them.
@Suite struct IstioCompatibilityTests {
    func added(_ pod: JSONValue, capture: Capture = Capture(.nftables), environment: [String: String] = [:],
               harness: PluginHarness? = nil) throws -> (PluginHarness, TestNamespace, PluginHarness.Outcome) {
        let harness = try harness ?? PluginHarness()
        try harness.addPod(pod)
        let namespace = try TestNamespace("compat")
        let name = pod["metadata"]?["name"]?.stringValue ?? "web"
        let add = try harness.run("ADD", netns: namespace.path, pod: name, config: harness.config(extra: capture.configuration),
                                  environment: environment)
        return (harness, namespace, add)
    }

    /// `ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE=nogroup`: iptables gets the name (and resolves it itself),
    /// nftables the GID the node's group database gives it; either way the kernel holds 65534.
    @Test(arguments: Capture.redirect)
    func groupNamesAreResolvedOnTheNode(capture: Capture) throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "groups"))
        let network = try PodNetwork()
        let add = try harness.run("ADD", netns: network.pod.path, pod: "groups", config: harness.config(extra: capture.configuration),
                                  environment: ["ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE": "nogroup,202"])
        #expect(add.status == 0, "\(add.stdout) \(add.stderr)")
        let listing = try capture.listing(network.pod)
        #expect(listing.contains(capture.backend == .nftables ? "meta skgid 65534 counter" : "-m owner --gid-owner 65534 -j RETURN"), "\(listing)")
        #expect(listing.contains(capture.backend == .nftables ? "meta skgid 202 counter" : "-m owner --gid-owner 202 -j RETURN"))
        let listeners = try [network.pod.listen(port: 15001, label: "outbound-proxy"), network.peer.listen(port: 80, label: "peer")]
        defer { listeners.forEach { $0.stop() } }
        #expect(try network.pod.connect(PodNetwork.peerAddress, 80, uid: 1000, gid: 65534)?.hasPrefix("peer ") == true)
        #expect(try network.pod.connect(PodNetwork.peerAddress, 80, uid: 1000, gid: 1000)?.hasPrefix("outbound-proxy ") == true)
        let check = try harness.run("CHECK", netns: network.pod.path, pod: "groups", config: harness.config(extra: capture.configuration),
                                    environment: ["ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE": "nogroup,202"])
        #expect(check.status == 0, "\(check.stdout)")
    }

    @Test(arguments: Capture.redirect)
    func anUnknownGroupNameFailsADDNamingIt(capture: Capture) throws {
        let (_, namespace, add) = try added(PodFixtures.meshPod(name: "web"), capture: capture,
                                            environment: ["ISTIO_OUTBOUND_OWNER_GROUPS": "java,202"])
        #expect(add.status == 1 && add.errorCode == 7, "\(add.stdout)")
        #expect(add.errorMessage.contains("ISTIO_OUTBOUND_OWNER_GROUPS=\"java,202\"") && add.errorMessage.contains("group \"java\" does not exist"),
                "\(add.errorMessage)")
        #expect(try Capture.holdsNoRules(namespace))
    }

    /// Port 0 and leading zeros pass Istio's validation (strconv.ParseUint, base 10): the numbers mean
    /// what they say in every backend.
    @Test(arguments: Capture.redirect)
    func portZeroAndLeadingZerosAreAccepted(capture: Capture) throws {
        let (_, namespace, add) = try added(PodFixtures.meshPod(name: "web", annotations: [
            "traffic.sidecar.istio.io/excludeInboundPorts": "0,065535",
            "traffic.sidecar.istio.io/excludeOutboundPorts": "00080",
        ]), capture: capture)
        #expect(add.status == 0, "\(add.stdout)")
        let listing = try capture.listing(namespace)
        if capture.backend == .nftables {
            #expect(listing.contains("tcp dport 0 counter") && listing.contains("tcp dport 65535 counter") && listing.contains("udp dport 80 counter"))
        } else {
            #expect(listing.contains("--dport 0 -j RETURN") && listing.contains("--dport 65535 -j RETURN") && listing.contains("-p udp -m udp --dport 80 -j RETURN"))
        }
    }

    /// Lists as long as an annotation can hold (Kubernetes caps all of a pod's annotations at 256 KiB):
    /// the nftables backend folds them into anonymous sets; CHECK reads the sets back; DEL removes all.
    @Test func listsOfAnyLengthAreProgrammedCheckedAndRemoved() throws {
        let ports = (0..<10_000).map { String(20_000 + 2 * $0) }.joined(separator: ",")
        let cidrs = (0..<10_000).map { "10.\($0 / 256).\($0 % 256).0/24" }.joined(separator: ",")
        let (harness, namespace, add) = try added(PodFixtures.meshPod(name: "web", annotations: [
            "traffic.sidecar.istio.io/excludeOutboundPorts": ports, "traffic.sidecar.istio.io/excludeOutboundIPRanges": cidrs,
        ]))
        #expect(add.status == 0, "\(add.stdout)")
        let listing = try namespace.nftListing()
        #expect(listing.contains("tcp dport { 20000, 20002, 20004,") && listing.contains("udp dport { 20000, 20002,"))
        // 10.0.0.0/24 … 10.39.15.0/24 are adjacent: one interval.
        #expect(listing.contains("ip daddr { 10.0.0.0-10.39.15.255 } counter"))
        #expect(listing.split(separator: "\n").count < 60, "one rule per list, not one per entry")
        #expect(try harness.run("CHECK", netns: namespace.path).status == 0)

        try namespace.run(["nft", "flush", "chain", "inet", "istio-proxy-nat", "istio-output"])
        let broken = try harness.run("CHECK", netns: namespace.path)
        #expect(broken.errorCode == 100 && broken.errorMessage.contains("tcp dport { 20000, 20002"), "\(broken.errorMessage)")
        #expect(broken.errorMessage.count < 2000, "the message names the rule without listing 10,000 ports")
        #expect(try harness.run("DEL", netns: namespace.path).status == 0)
        #expect(try Capture.holdsNoRules(namespace))
    }

    @Test func aValueLongerThanKubernetesAllowsIsRefused() throws {
        let tooLong = String(repeating: "8080,", count: 60_000)
        let (_, namespace, add) = try added(PodFixtures.meshPod(name: "web", annotations: ["traffic.sidecar.istio.io/excludeInboundPorts": tooLong]))
        #expect(add.errorCode == 7 && add.errorMessage.contains("at most 262144 are accepted"), "\(add.errorMessage)")
        #expect(try Capture.holdsNoRules(namespace))
    }

    /// Istio's native nftables rules drop invalid TCP only; its iptables rules drop every invalid packet.
    @Test(arguments: Capture.redirect)
    func invalidDropMatchesWhatIstioWritesPerBackend(capture: Capture) throws {
        let (_, namespace, add) = try added(PodFixtures.meshPod(name: "web", proxyEnvironment: ["INVALID_DROP": "true"]), capture: capture)
        #expect(add.status == 0, "\(add.stdout)")
        let listing = try capture.listing(namespace)
        if capture.backend == .nftables {
            #expect(listing.contains("meta l4proto tcp ct state invalid counter packets 0 bytes 0 jump istio-drop"), "\(listing)")
        } else {
            #expect(listing.contains("-A PREROUTING -m conntrack --ctstate INVALID -j ISTIO_DROP"))
        }
    }

    @Test(arguments: Capture.redirect)
    func transparentProxyHonoursTheLoopbackCIDR(capture: Capture) throws {
        let (_, namespace, add) = try added(PodFixtures.meshPod(name: "web", annotations: ["sidecar.istio.io/interceptionMode": "TPROXY"]),
                                            capture: capture, environment: ["ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR": "127.0.0.0/8"])
        #expect(add.status == 0, "\(add.stdout)")
        let listing = try capture.listing(namespace)
        if capture.backend == .nftables {
            #expect(listing.contains("ip daddr != 127.0.0.0/8 meta l4proto tcp counter packets 0 bytes 0 tproxy ip to :15006"), "\(listing)")
            #expect(!listing.contains("127.0.0.1"))
        } else {
            #expect(listing.contains("-A ISTIO_TPROXY ! -d 127.0.0.0/8 -p tcp -j TPROXY"), "\(listing)")
            #expect(listing.contains("-A OUTPUT ! -d 127.0.0.0/8 -o lo -p tcp -m owner --uid-owner 1337 -j MARK --set-xmark 0x53a/0xffffffff"))
        }
    }

    /// Istio ≥ 1.23 reads `<cni_agent_run_dir>/istio-cni-kubeconfig`; a config an old installer wrote may
    /// still name the legacy path, which must not win over a valid run-dir kubeconfig.
    @Test func theRunDirectoryKubeconfigWinsOverALegacyPath() throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let namespace = try TestNamespace("kcfg")
        let legacy = harness.runDirectory.appendingPathComponent("legacy/ZZZ-istio-cni-kubeconfig")
        let config = harness.config(extra: [("kubernetes", .object(JSONObject([("kubeconfig", .string(legacy.path))])))])
        let stale = try harness.run("ADD", netns: namespace.path, config: config)
        #expect(stale.status == 0, "a stale legacy path next to a valid run-dir kubeconfig: \(stale.stdout)")

        let current = harness.runDirectory.appendingPathComponent("istio-cni-kubeconfig")
        try FileManager.default.createDirectory(at: legacy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: current, to: legacy)
        #expect(try harness.run("ADD", netns: namespace.path, config: config).status == 0, "without one, the legacy path is used")
        try FileManager.default.removeItem(at: legacy)
        let neither = try harness.run("ADD", netns: namespace.path, config: config)
        #expect(neither.status == 1 && neither.errorMessage.contains(legacy.path), "\(neither.errorMessage)")
    }

    /// K8S_POD_UID from the runtime names the pod this sandbox belongs to; the API's pod of that name
    /// with another UID is its successor.
    @Test func aSandboxOfADeletedPodIsNotProgrammedWithItsSuccessorsDecision() throws {
        let harness = try PluginHarness()
        let created = try harness.addPod(PodFixtures.meshPod(name: "db-0"))
        let current = try #require(created["metadata"]?["uid"]?.stringValue)
        let namespace = try TestNamespace("uid")
        func add(uid: String?) throws -> PluginHarness.Outcome {
            let args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=db-0" + (uid.map { ";K8S_POD_UID=\($0)" } ?? "")
            return try harness.run("ADD", netns: namespace.path, pod: "db-0", environment: ["CNI_ARGS": args])
        }
        let old = "11111111-2222-4333-8444-555555555555"
        let stale = try add(uid: old)
        #expect(stale.status == 1 && stale.errorCode == 11, "\(stale.stdout)")
        #expect(stale.errorMessage.contains(old) && stale.errorMessage.contains(current), "\(stale.errorMessage)")
        #expect(try Capture.holdsNoRules(namespace))
        #expect(try add(uid: current).status == 0)
        #expect(try add(uid: nil).status == 0, "runtimes that send no UID get today's behaviour")
    }

    /// OpenShift's Modern profile, `kube-apiserver --tls-min-version=VersionTLS13`; and a TLS 1.2-only
    /// server still works. The second ADD of each resumes the first one's session.
    @Test(arguments: [EmulatorTLSVersions.tls13Only, .tls12Only])
    func podsAreLookedUpFromAnAPIServerOfEitherTLSVersion(versions: EmulatorTLSVersions) throws {
        let harness = try PluginHarness(tlsVersions: versions)
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        for attempt in 0..<2 {
            let namespace = try TestNamespace("tls")
            let add = try harness.run("ADD", netns: namespace.path, containerID: "tls\(attempt)")
            #expect(add.status == 0, "\(add.stdout) \(add.stderr)")
            #expect(add.stderr.contains("pod from the API server"))
            #expect(try namespace.nftListing().contains("istio-proxy-nat"))
        }
        #expect(FileManager.default.fileExists(atPath: harness.runDirectory.appendingPathComponent("istio-cni-tls-session").path))
    }
}
