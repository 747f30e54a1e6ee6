import Testing
import TestSupport

/// Real TCP and UDP through the rules the plugin writes: a pod namespace and a peer namespace joined
/// by a veth pair, netprobe listeners standing in for the proxy, the app and the remote service.
@Suite struct RedirectTrafficTests {
    @Test func defaultSidecarPodRedirectsOutboundAndInbound() throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let network = try PodNetwork()
        let add = try harness.run("ADD", netns: network.pod.path)
        #expect(add.status == 0, "\(add.stdout) \(add.stderr)")

        let listeners = try [
            network.pod.listen(port: 15001, label: "outbound-proxy"),
            network.pod.listen(port: 15006, label: "inbound-proxy"),
            network.pod.listen(port: 8080, label: "app"),
            network.pod.listen(port: 15021, label: "health"),
            network.peer.listen(port: 80, label: "peer"),
        ]
        defer { listeners.forEach { $0.stop() } }

        let fromApp = try network.pod.connect(PodNetwork.peerAddress, 80)
        #expect(fromApp?.hasPrefix("outbound-proxy orig=\(PodNetwork.peerAddress):80 ") == true, "\(fromApp ?? "no answer")")
        let fromProxyUID = try network.pod.connect(PodNetwork.peerAddress, 80, uid: 1337, gid: 1000)
        #expect(fromProxyUID?.hasPrefix("peer ") == true, "\(fromProxyUID ?? "no answer")")
        let fromProxyGID = try network.pod.connect(PodNetwork.peerAddress, 80, uid: 1000, gid: 1337)
        #expect(fromProxyGID?.hasPrefix("peer ") == true, "\(fromProxyGID ?? "no answer")")

        let inbound = try network.peer.connect(PodNetwork.podAddress, 8080)
        #expect(inbound?.hasPrefix("inbound-proxy orig=\(PodNetwork.podAddress):8080 ") == true, "\(inbound ?? "no answer")")
        let healthCheck = try network.peer.connect(PodNetwork.podAddress, 15021)
        #expect(healthCheck?.hasPrefix("health ") == true, "\(healthCheck ?? "no answer")")
    }
}
