import Foundation
import Testing
import TestSupport

/// podman 4.3 (CNI backend) as the runtime on a node the install-cni agent installed: see
/// integration/podman-chain.sh.
@Suite struct PodmanChainTests {
    @Test func podmanRunsPodsThroughTheChain() throws {
        let script = Paths.packageRoot.appendingPathComponent("integration/podman-chain.sh").path
        let result = try Command.run([script], timeout: 600)
        #expect(result.succeeded, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("podman chain: all checks passed"))
        #expect(result.stdout.contains("ok: redirected to the proxy on 15001, original destination kept"))
        #expect(result.stdout.contains("ok: plainpod has no istio tables"))
        #expect(result.stdout.contains("ok: agent ready: plugin in the bin dir, kubeconfig written, entry chained"))
        #expect(result.stdout.contains("ok: meshpod's rules came from the agent's pod cache and its report reached the agent"))
    }
}
