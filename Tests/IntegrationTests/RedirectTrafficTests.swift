import JSON
import Testing
import TestSupport

/// Real TCP and UDP through the rules the plugin writes: a pod namespace and a peer namespace joined
/// by a veth pair, netprobe listeners standing in for the proxy, the app and the remote service. Every
/// test runs for each backend (nftables, iptables-legacy, iptables-nft) and each interception mode
/// (REDIRECT, TPROXY) where the mode matters.
@Suite struct RedirectTrafficTests {
    static let peer = PodNetwork.peerAddress
    static let pod = PodNetwork.podAddress

    /// Adds `pod` to the emulator, runs ADD into a fresh pod network and returns both.
    func programmedNetwork(_ pod: JSONPod, _ capture: Capture, ipv6: Bool = false, ipv4: Bool = true) throws -> (PluginHarness, PodNetwork) {
        let harness = try PluginHarness()
        var pod = pod
        pod.annotations.merge(capture.annotations) { $1 }
        try harness.addPod(pod.json)
        let network = try PodNetwork(ipv6: ipv6, ipv4: ipv4)
        let add = try harness.run("ADD", netns: network.pod.path, pod: pod.name, config: harness.config(extra: capture.configuration))
        #expect(add.status == 0, "ADD failed: \(add.stdout) \(add.stderr)")
        return (harness, network)
    }

    /// What the inbound proxy reports for a redirected connection from the peer: the original
    /// destination, and the client's own address (which TPROXY is there to keep).
    static func inbound(_ destination: String, from client: String) -> String {
        "inbound-proxy orig=\(destination) peer=\(client):"
    }

    @Test(arguments: Capture.all)
    func defaultSidecarPodRedirectsOutboundAndInbound(capture: Capture) throws {
        let (_, network) = try programmedNetwork(JSONPod(name: "web"), capture)
        let listeners = try [
            network.pod.listen(port: 15001, label: "outbound-proxy"),
            capture.listenInboundProxy(in: network.pod),
            network.pod.listen(port: 8080, label: "app"),
            network.pod.listen(port: 15021, label: "health"),
            network.peer.listen(port: 80, label: "peer"),
        ]
        defer { listeners.forEach { $0.stop() } }

        let fromApp = try network.pod.connect(Self.peer, 80)
        #expect(fromApp?.hasPrefix("outbound-proxy orig=\(Self.peer):80 ") == true, "\(fromApp ?? "no answer")")
        let fromProxyUID = try network.pod.connect(Self.peer, 80, uid: 1337, gid: 1000)
        #expect(fromProxyUID?.hasPrefix("peer ") == true, "\(fromProxyUID ?? "no answer")")
        let fromProxyGID = try network.pod.connect(Self.peer, 80, uid: 1000, gid: 1337)
        #expect(fromProxyGID?.hasPrefix("peer ") == true, "\(fromProxyGID ?? "no answer")")

        let inbound = try network.peer.connect(Self.pod, 8080)
        #expect(inbound?.hasPrefix(Self.inbound("\(Self.pod):8080", from: Self.peer)) == true, "\(inbound ?? "no answer")")
        let healthCheck = try network.peer.connect(Self.pod, 15021)
        #expect(healthCheck?.hasPrefix("health ") == true, "\(healthCheck ?? "no answer")")
    }

    /// Programs a pod excluding these CIDRs and ports (among them the second peer's address, outbound
    /// 9090 and inbound 3306) and checks that exactly those bypass the proxy.
    func expectExclusions(cidrs: [String], outboundPorts: [String], inboundPorts: [String], _ capture: Capture) throws -> PodNetwork {
        let (_, network) = try programmedNetwork(JSONPod(name: "excl", annotations: [
            "traffic.sidecar.istio.io/excludeOutboundIPRanges": (cidrs + ["\(PodNetwork.secondPeerAddress)/32"]).joined(separator: ","),
            "traffic.sidecar.istio.io/excludeOutboundPorts": (outboundPorts + ["9090"]).joined(separator: ","),
            "traffic.sidecar.istio.io/excludeInboundPorts": (inboundPorts + ["3306"]).joined(separator: ","),
        ]), capture)
        let listeners = try [
            network.pod.listen(port: 15001, label: "outbound-proxy"),
            capture.listenInboundProxy(in: network.pod),
            network.pod.listen(port: 3306, label: "database"),
            network.peer.listen(port: 80, label: "peer80"),
            network.peer.listen(port: 9090, label: "peer9090"),
        ]
        defer { listeners.forEach { $0.stop() } }

        #expect(try network.pod.connect(PodNetwork.secondPeerAddress, 80)?.hasPrefix("peer80 ") == true)
        #expect(try network.pod.connect(Self.peer, 9090)?.hasPrefix("peer9090 ") == true)
        #expect(try network.pod.connect(Self.peer, 80)?.hasPrefix("outbound-proxy orig=\(Self.peer):80") == true)
        #expect(try network.peer.connect(Self.pod, 3306)?.hasPrefix("database ") == true)
        #expect(try network.peer.connect(Self.pod, 8080)?.hasPrefix(Self.inbound("\(Self.pod):8080", from: Self.peer)) == true)
        return network
    }

    @Test(arguments: Capture.all)
    func excludedRangesAndPortsAreNotRedirected(capture: Capture) throws {
        _ = try expectExclusions(cidrs: [], outboundPorts: [], inboundPorts: [], capture)
    }

    /// Long lists (the nftables backend turns them into set lookups) exclude exactly what they list.
    @Test(arguments: Capture.redirect)
    func longExclusionListsExcludeWhatTheyList(capture: Capture) throws {
        let network = try expectExclusions(cidrs: (0..<2_000).map { "10.\($0 / 128).\(2 * ($0 % 128)).0/24" },
                                           outboundPorts: (0..<1_000).map { String(40_000 + 2 * $0) },
                                           inboundPorts: (0..<1_000).map { String(41_000 + 2 * $0) }, capture)
        if capture.backend == .nftables {
            #expect(try network.pod.nftListing().split(separator: "\n").count < 60, "set lookups, not one rule per entry")
        }
    }

    @Test(arguments: Capture.all)
    func inclusionListsLimitWhatIsRedirected(capture: Capture) throws {
        let (_, network) = try programmedNetwork(JSONPod(name: "incl", annotations: [
            "traffic.sidecar.istio.io/includeOutboundIPRanges": "\(PodNetwork.secondPeerAddress)/32",
            "traffic.sidecar.istio.io/includeInboundPorts": "8080",
            "traffic.sidecar.istio.io/includeOutboundPorts": "7070",
        ]), capture)
        let listeners = try [
            network.pod.listen(port: 15001, label: "outbound-proxy"),
            capture.listenInboundProxy(in: network.pod),
            network.pod.listen(port: 9000, label: "app9000"),
            network.peer.listen(port: 80, label: "peer80"),
            network.peer.listen(port: 7070, label: "peer7070"),
        ]
        defer { listeners.forEach { $0.stop() } }

        #expect(try network.pod.connect(PodNetwork.secondPeerAddress, 80)?.hasPrefix("outbound-proxy orig=\(PodNetwork.secondPeerAddress):80") == true)
        #expect(try network.pod.connect(Self.peer, 80)?.hasPrefix("peer80 ") == true)
        #expect(try network.pod.connect(Self.peer, 7070)?.hasPrefix("outbound-proxy orig=\(Self.peer):7070") == true)
        #expect(try network.peer.connect(Self.pod, 8080)?.hasPrefix(Self.inbound("\(Self.pod):8080", from: Self.peer)) == true)
        #expect(try network.peer.connect(Self.pod, 9000)?.hasPrefix("app9000 ") == true)
    }

    @Test(arguments: Capture.all)
    func dnsCaptureSendsPort53ToTheAgent(capture: Capture) throws {
        let (_, network) = try programmedNetwork(JSONPod(name: "dns", proxyEnvironment: ["ISTIO_META_DNS_CAPTURE": "true"]), capture)
        // Like istio-agent: bound to localhost, running as the proxy user (the conntrack zones key on it).
        let listeners = try [
            network.pod.listen(port: 15053, label: "dns-proxy", udp: true, bind: "127.0.0.1", uid: 1337, gid: 1337),
            network.pod.listen(port: 15053, label: "dns-proxy-tcp"),
            network.peer.listen(port: 53, label: "upstream-dns", udp: true),
        ]
        defer { listeners.forEach { $0.stop() } }

        #expect(try network.pod.connect(Self.peer, 53, udp: true) == "dns-proxy")
        #expect(try network.pod.connect(Self.peer, 53)?.hasPrefix("dns-proxy-tcp orig=\(Self.peer):53") == true)
        // The agent's own queries (uid 1337) go to the real resolver.
        #expect(try network.pod.connect(Self.peer, 53, uid: 1337, gid: 1337, udp: true) == "upstream-dns")
        let listing = try capture.listing(network.pod)
        #expect(listing.contains(capture.backend == .nftables ? "table inet istio-proxy-raw" : "-A OUTPUT -j ISTIO_OUTPUT_DNS"))
    }

    @Test(arguments: Capture.redirect)
    func proxyUIDAndGIDComeFromTheSidecarSecurityContext(capture: Capture) throws {
        let (_, network) = try programmedNetwork(JSONPod(name: "uid", runAsUser: 1_000_670_000, runAsGroup: 1_000_670_001), capture)
        let listeners = try [network.pod.listen(port: 15001, label: "outbound-proxy"), network.peer.listen(port: 80, label: "peer")]
        defer { listeners.forEach { $0.stop() } }

        #expect(try network.pod.connect(Self.peer, 80, uid: 1_000_670_000, gid: 1000)?.hasPrefix("peer ") == true)
        #expect(try network.pod.connect(Self.peer, 80, uid: 1000, gid: 1_000_670_001)?.hasPrefix("peer ") == true)
        #expect(try network.pod.connect(Self.peer, 80, uid: 1337, gid: 1337)?.hasPrefix("outbound-proxy ") == true)
    }

    @Test(arguments: Capture.all)
    func excludedInterfaceBypassesCaptureBothWays(capture: Capture) throws {
        let (_, network) = try programmedNetwork(JSONPod(name: "ifx", annotations: ["traffic.sidecar.istio.io/excludeInterfaces": "eth0"]), capture)
        let listeners = try Self.proxiesAppAndPeer(network, capture)
        defer { listeners.forEach { $0.stop() } }

        #expect(try network.pod.connect(Self.peer, 80)?.hasPrefix("peer ") == true)
        #expect(try network.peer.connect(Self.pod, 8080)?.hasPrefix("app ") == true)
    }

    @Test(arguments: Capture.all)
    func dualStackPodWithTheFlagGetsIPv6RulesAndThePassthroughAddress(capture: Capture) throws {
        let (_, network) = try programmedNetwork(JSONPod(name: "six", proxyEnvironment: ["ISTIO_DUAL_STACK": "true"]), capture, ipv6: true)
        let listeners = try [
            network.pod.listen(port: 15001, label: "outbound-proxy"),
            capture.listenInboundProxy(in: network.pod),
            network.peer.listen(port: 80, label: "peer"),
        ]
        defer { listeners.forEach { $0.stop() } }

        try Self.expectIPv6Captured(network)
        #expect(try network.pod.connect(Self.peer, 80)?.hasPrefix("outbound-proxy orig=\(Self.peer):80") == true)
        let loopback = try network.pod.run(["ip", "-6", "addr", "show", "dev", "lo"]).stdout
        #expect(loopback.contains("::6/128"))
        let listing = try capture.listing(network.pod, ipv6: true)
        #expect(listing.contains(capture.backend == .nftables ? "ip6 saddr ::6 " : "-s ::6/128"))
        if capture.transparent {
            #expect(try network.pod.run(["ip", "-6", "rule"]).stdout.contains("fwmark 0x539 lookup 133"))
            #expect(try network.pod.run(["ip", "-6", "route", "show", "table", "133"]).stdout.contains("local default dev lo"))
        }
    }

    /// Envoy without ISTIO_DUAL_STACK listens on 0.0.0.0 only: Istio writes IPv4 rules for a pod whose
    /// first address is IPv4, and so must we, or every IPv6 connection of the pod is refused.
    @Test(arguments: Capture.all)
    func dualStackPodWithoutTheFlagKeepsIPv6Direct(capture: Capture) throws {
        let (_, network) = try programmedNetwork(JSONPod(name: "dual"), capture, ipv6: true)
        let listeners = try Self.proxiesAppAndPeer(network, capture)
        defer { listeners.forEach { $0.stop() } }

        let peerV6 = PodNetwork.peerAddressV6
        #expect(try network.pod.connect(peerV6, 80)?.hasPrefix("peer ") == true, "IPv6 out goes straight to the peer")
        #expect(try network.peer.connect(PodNetwork.podAddressV6, 8080)?.hasPrefix("app ") == true, "IPv6 in reaches the app's port")
        #expect(try network.pod.connect(Self.peer, 80)?.hasPrefix("outbound-proxy orig=\(Self.peer):80") == true, "IPv4 is still captured")
        #expect(try network.peer.connect(Self.pod, 8080)?.hasPrefix(Self.inbound("\(Self.pod):8080", from: Self.peer)) == true)
        #expect(!(try network.pod.run(["ip", "-6", "addr", "show", "dev", "lo"]).stdout.contains("::6/128")))
        if capture.backend != .nftables {
            #expect(!(try capture.listing(network.pod, ipv6: true).contains("ISTIO_")), "no ip6tables rules")
        }
    }

    @Test(arguments: Capture.all)
    func ipv6OnlyPodIsRedirected(capture: Capture) throws {
        let (_, network) = try programmedNetwork(JSONPod(name: "v6only"), capture, ipv6: true, ipv4: false)
        let listeners = try Self.proxiesAppAndPeer(network, capture)
        defer { listeners.forEach { $0.stop() } }

        try Self.expectIPv6Captured(network)
        #expect(try network.pod.run(["ip", "-6", "addr", "show", "dev", "lo"]).stdout.contains("::6/128"))
    }

    @Test func ipv4OnlyPodLeavesIPv6TrafficAlone() throws {
        let (_, network) = try programmedNetwork(JSONPod(name: "four"), Capture(.nftables))
        let listing = try network.pod.nftListing()
        #expect(listing.contains("meta nfproto ipv4 counter packets 0 bytes 0 jump istio-output"))
        #expect(!listing.contains("ip6 "))
    }

    /// IPv6 out reaches the outbound proxy with its original destination, the proxy's own UID goes
    /// direct, and IPv6 in reaches the inbound proxy.
    private static func expectIPv6Captured(_ network: PodNetwork) throws {
        let peerV6 = PodNetwork.peerAddressV6
        #expect(try network.pod.connect(peerV6, 80)?.hasPrefix("outbound-proxy orig=[\(peerV6)]:80") == true)
        #expect(try network.pod.connect(peerV6, 80, uid: 1337, gid: 1337)?.hasPrefix("peer ") == true)
        let answer = try network.peer.connect(PodNetwork.podAddressV6, 8080)
        #expect(answer?.hasPrefix(Self.inbound("[\(PodNetwork.podAddressV6)]:8080", from: "[\(peerV6)]")) == true, "\(answer ?? "no answer")")
    }

    /// Both proxy ports, an app on 8080 and a peer on 80: enough to tell captured from direct in either direction.
    private static func proxiesAppAndPeer(_ network: PodNetwork, _ capture: Capture) throws -> [BackgroundProcess] {
        try [
            network.pod.listen(port: 15001, label: "outbound-proxy"),
            capture.listenInboundProxy(in: network.pod),
            network.pod.listen(port: 8080, label: "app"),
            network.peer.listen(port: 80, label: "peer"),
        ]
    }

    @Test(arguments: Capture.redirect)
    func nonMeshPodGetsNoRulesAndDirectTraffic(capture: Capture) throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.plainPod(name: "plain"))
        let network = try PodNetwork()
        let add = try harness.run("ADD", netns: network.pod.path, pod: "plain", config: harness.config(extra: capture.configuration))
        #expect(add.status == 0)
        #expect(add.stderr.contains("no istio-proxy container"))
        #expect(try Capture.holdsNoRules(network.pod))
        let peer = try network.peer.listen(port: 80, label: "peer")
        defer { peer.stop() }
        #expect(try network.pod.connect(Self.peer, 80)?.hasPrefix("peer ") == true)
    }

    @Test(arguments: Capture.redirect)
    func secondAddReplacesTheRulesAtomically(capture: Capture) throws {
        let harness = try PluginHarness()
        try harness.addPod(JSONPod(name: "v1", annotations: ["sidecar.istio.io/interceptionMode": "TPROXY"],
                                   proxyEnvironment: ["ISTIO_META_DNS_CAPTURE": "true"]).json)
        try harness.addPod(JSONPod(name: "v2", annotations: ["traffic.sidecar.istio.io/excludeOutboundPorts": "9999"]).json)
        let network = try PodNetwork()
        let config = harness.config(extra: capture.configuration)
        #expect(try harness.run("ADD", netns: network.pod.path, pod: "v1", config: config).status == 0)
        #expect(try capture.listing(network.pod).contains(capture.backend == .nftables ? "istio-proxy-raw" : "ISTIO_OUTPUT_DNS"))
        let second = try harness.run("ADD", netns: network.pod.path, pod: "v2", config: config)
        #expect(second.status == 0, "\(second.stdout)")
        #expect(second.stderr.contains("replaced"))
        let listing = try capture.listing(network.pod)
        #expect(!listing.contains("istio-proxy-raw") && !listing.contains("ISTIO_OUTPUT_DNS") && !listing.contains("ISTIO_TPROXY"))
        #expect(listing.contains(capture.backend == .nftables ? "tcp dport 9999 counter" : "--dport 9999 -j RETURN"))
        #expect(!listing.contains("udp dport 53") && !listing.contains("--dport 53 "))
        #expect(try network.pod.run(["ip", "rule"]).stdout.contains("lookup 133") == false, "the TPROXY route went with the TPROXY rules")
        let check = try harness.run("CHECK", netns: network.pod.path, pod: "v2", config: config)
        #expect(check.status == 0, "\(check.stdout)")
    }
}

/// A mesh pod description for these tests.
struct JSONPod {
    var name: String
    var annotations: [String: String] = [:]
    var proxyEnvironment: [String: String] = [:]
    var runAsUser: Int?
    var runAsGroup: Int?

    var json: JSONValue {
        PodFixtures.meshPod(name: name, annotations: annotations, proxyEnvironment: proxyEnvironment,
                            runAsUser: runAsUser, runAsGroup: runAsGroup)
    }
}
