import JSON
import KubeEmulator
import Testing
import TestSupport

/// PATCH (merge patch, status subresource), DELETE preconditions and set-based selectors, as the
/// API server applies them; checked with curl.
@Suite struct EmulatorWriteTests {
    typealias Client = EmulatorProtocolTests.Client
    let merge = "application/merge-patch+json"

    func makePod(_ client: Client, labels: [String: String] = [:]) throws -> JSONValue {
        let pod = PodFixtures.with(PodFixtures.meshPod(name: "web", labels: labels), status: PodFixtures.brokenStatus())
        return try client.emulator.store.create(.pods, namespace: "default", pod)
    }

    @Test func statusPatchChangesLabelsAndStatusButNotSpec() throws {
        let client = try Client()
        let created = try makePod(client)
        let patch: JSONValue = ["metadata": ["labels": ["cni.istio.io/uninitialized": "true"]], "spec": ["nodeName": "elsewhere"],
                                "status": ["phase": "Running"]]
        let (status, patched) = try client.call("PATCH", "/api/v1/namespaces/default/pods/web/status", body: patch, contentType: merge)
        #expect(status == 200)
        #expect(patched["metadata"]?["labels"]?["cni.istio.io/uninitialized"]?.stringValue == "true")
        #expect(patched["spec"]?["nodeName"]?.stringValue == "node-a")
        #expect(patched["status"]?["phase"]?.stringValue == "Running")
        #expect(patched["metadata"]?["resourceVersion"] != created["metadata"]?["resourceVersion"])
        #expect(patched["metadata"]?["uid"] == created["metadata"]?["uid"])
    }

    @Test func mainResourcePatchIgnoresStatusAndNullRemoves() throws {
        let client = try Client()
        _ = try makePod(client, labels: ["app": "web", "tier": "front"])
        let patch: JSONValue = ["metadata": ["labels": ["tier": .null]], "status": ["phase": "Running"]]
        let (status, patched) = try client.call("PATCH", "/api/v1/namespaces/default/pods/web", body: patch, contentType: merge)
        #expect(status == 200)
        #expect(patched["metadata"]?["labels"]?["tier"] == nil)
        #expect(patched["metadata"]?["labels"]?["app"]?.stringValue == "web")
        #expect(patched["status"]?["phase"]?.stringValue == "Pending")
    }

    @Test func patchRejectsOtherMediaTypesAndStaleVersions() throws {
        let client = try Client()
        _ = try makePod(client)
        let (unsupported, body) = try client.call("PATCH", "/api/v1/namespaces/default/pods/web", body: ["metadata": ["labels": ["a": "b"]]],
                                                  contentType: "application/json-patch+json")
        #expect(unsupported == 415)
        #expect(body["reason"]?.stringValue == "UnsupportedMediaType")
        let (conflict, status) = try client.call("PATCH", "/api/v1/namespaces/default/pods/web", body: ["metadata": ["resourceVersion": "1"]], contentType: merge)
        #expect(conflict == 409)
        #expect(status["reason"]?.stringValue == "Conflict")
        let (missing, _) = try client.call("PATCH", "/api/v1/namespaces/default/pods/nope/status", body: ["metadata": .object(JSONObject())], contentType: merge)
        #expect(missing == 404)
    }

    @Test func deletePreconditionsProtectARecreatedPod() throws {
        let client = try Client()
        let first = try makePod(client)
        let firstUID = try #require(first["metadata"]?["uid"]?.stringValue)
        let firstVersion = try #require(first["metadata"]?["resourceVersion"]?.stringValue)
        try client.emulator.store.delete(.pods, namespace: "default", name: "web")
        let second = try makePod(client)
        let options: JSONValue = ["kind": "DeleteOptions", "apiVersion": "v1", "preconditions": ["uid": .string(firstUID), "resourceVersion": .string(firstVersion)]]
        let (status, body) = try client.call("DELETE", "/api/v1/namespaces/default/pods/web", body: options)
        #expect(status == 409)
        #expect(body["message"]?.stringValue?.contains("Precondition failed: UID in precondition: \(firstUID)") == true)
        #expect((try? client.emulator.store.get(.pods, namespace: "default", name: "web"))?["metadata"]?["uid"] == second["metadata"]?["uid"])

        let current: JSONValue = ["preconditions": ["uid": second["metadata"]?["uid"] ?? .null, "resourceVersion": second["metadata"]?["resourceVersion"] ?? .null]]
        let (deleted, _) = try client.call("DELETE", "/api/v1/namespaces/default/pods/web", body: current)
        #expect(deleted == 200)
        #expect((try? client.emulator.store.get(.pods, namespace: "default", name: "web")) == nil)
    }

    @Test func setBasedLabelSelectors() throws {
        let client = try Client()
        for (name, app) in [("a", "web"), ("b", "api"), ("c", "db")] {
            try client.emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: name, labels: ["app": app]))
        }
        let (_, inList) = try client.call("GET", "/api/v1/pods?labelSelector=app%20in%20(web,api)")
        #expect(inList["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["a", "b"])
        let (_, notIn) = try client.call("GET", "/api/v1/pods?labelSelector=app%20notin%20(web,api)")
        #expect(notIn["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["c"])
        let (bad, _) = try client.call("GET", "/api/v1/pods?labelSelector=app%20in%20(web")
        #expect(bad == 400)
    }
}
