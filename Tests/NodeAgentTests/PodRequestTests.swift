@testable import NodeAgent
import Testing

/// The plugin socket's cache requests: names, UID and wait checked before the cache sees them.
@Suite struct PodRequestTests {
    static func parse(_ target: String) -> Result<PodRequest, PodRequestError>? {
        let (path, query) = AgentRequest.split(target)
        return PodRequest.parse(AgentRequest(method: "GET", path: path, query: query, body: []))
    }

    @Test func readsWhatThePluginSends() throws {
        let parsed = try #require(Self.parse("/v1/pods/default/web-7d4b9?waitMilliseconds=500&uid=3f2a-9C")).get()
        #expect(parsed == PodRequest(namespace: "default", name: "web-7d4b9", uid: "3f2a-9C", waitMilliseconds: 500))
        #expect(try Self.parse("/v1/pods/default/web")?.get().waitMilliseconds == 0)
        #expect(try Self.parse("/v1/pods/default/web?waitMilliseconds=99999999999999999999999")?.get().waitMilliseconds == 5000)
        #expect(Self.parse("/v1/plugin-report") == nil)
    }

    @Test(arguments: [
        ("/v1/pods/default", "expected /v1/pods/NAMESPACE/NAME"),
        ("/v1/pods/a/b/c", "expected /v1/pods/NAMESPACE/NAME"),
        ("/v1/pods/Default/web", "namespace Default is not a Kubernetes namespace name"),
        ("/v1/pods/default/web..x", "pod name web..x is not a Kubernetes object name"),
        ("/v1/pods/default/web?uid=zz", "uid zz is not a pod UID"),
        ("/v1/pods/default/web?uid=", "uid  is not a pod UID"),
        ("/v1/pods/default/web?waitMilliseconds=-1", "waitMilliseconds -1 is not a number of milliseconds"),
        ("/v1/pods/default/web?waitMilliseconds=1e9", "waitMilliseconds 1e9 is not a number of milliseconds"),
    ])
    func refusesWhatNoPluginSends(target: String, message: String) {
        #expect(Self.parse(target) == .failure(PodRequestError(message)))
    }
}
