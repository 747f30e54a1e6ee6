import Foundation
import JSON
import KubeEmulator
import Testing
import TestSupport

/// The emulator speaks the API server's protocol: checked with curl, an independent HTTP client.
@Suite struct EmulatorProtocolTests {
    final class Client: @unchecked Sendable {
        let emulator: KubeEmulator
        let caFile: URL

        init() throws {
            emulator = try KubeEmulator(keyType: .ecdsaP256)
            caFile = try Paths.temporaryDirectory("ca").appendingPathComponent("ca.crt")
            try emulator.identity.caCertificatePEM.write(to: caFile, atomically: true, encoding: .utf8)
        }

        deinit {
            emulator.stop()
            try? FileManager.default.removeItem(at: caFile.deletingLastPathComponent())
        }

        /// (HTTP status, parsed body)
        func call(_ method: String, _ path: String, body: JSONValue? = nil, token: String? = nil,
                  contentType: String = "application/json") throws -> (Int, JSONValue) {
            var arguments = ["curl", "-sS", "--cacert", caFile.path, "-X", method, "-w", "\n%{http_code}",
                             "-H", "Authorization: Bearer \(token ?? emulator.token)", "-H", "Content-Type: \(contentType)"]
            if let body { arguments += ["--data-binary", JSONSerializer.serialize(body)] }
            arguments.append("https://localhost:\(emulator.port)\(path)")
            let output = try Command.run(arguments, check: true).stdout
            let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
            let status = Int(lines.last ?? "") ?? 0
            return (status, try JSONParser.parse(lines.dropLast().joined(separator: "\n")))
        }

        /// Runs a watch request to its end (the server closes it after `timeoutSeconds`) and returns the
        /// events, one parsed JSON document per line.
        func watch(_ path: String, cut: Bool = false) throws -> [JSONValue] {
            let arguments = ["curl", "-sS", "-N", "--cacert", caFile.path, "-H", "Authorization: Bearer \(emulator.token)",
                             "https://localhost:\(emulator.port)\(path)"]
            let result = try Command.run(arguments, timeout: 30)
            // A cut connection ends a chunked body early: curl reports a partial transfer (18).
            #expect(result.status == (cut ? 18 : 0), "\(result.stderr)")
            let output = result.stdout
            return try output.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        }
    }

    @Test func createGetDeleteWithStatusErrors() throws {
        let client = try Client()
        let (created, pod) = try client.call("POST", "/api/v1/namespaces/default/pods", body: PodFixtures.meshPod(name: "web"))
        #expect(created == 201)
        #expect(pod["kind"] == "Pod" && pod["apiVersion"] == "v1")
        #expect(pod["metadata"]?["uid"]?.stringValue?.count == 36)
        #expect(pod["metadata"]?["creationTimestamp"]?.stringValue?.hasSuffix("Z") == true)
        let version = try #require(Int(pod["metadata"]?["resourceVersion"]?.stringValue ?? ""))

        let (conflict, status) = try client.call("POST", "/api/v1/namespaces/default/pods", body: PodFixtures.meshPod(name: "web"))
        #expect(conflict == 409)
        #expect(status["kind"] == "Status" && status["reason"] == "AlreadyExists" && status["code"] == 409)

        let (fetched, same) = try client.call("GET", "/api/v1/namespaces/default/pods/web")
        #expect(fetched == 200 && same == pod)
        _ = try client.call("POST", "/api/v1/namespaces/default/pods", body: PodFixtures.plainPod(name: "other"))
        #expect(client.emulator.store.currentResourceVersion > version)

        #expect(try client.call("DELETE", "/api/v1/namespaces/default/pods/web").0 == 200)
        let (gone, notFound) = try client.call("GET", "/api/v1/namespaces/default/pods/web")
        #expect(gone == 404)
        #expect(notFound["reason"] == "NotFound" && notFound["message"] == "pods \"web\" not found" && notFound["details"]?["name"] == "web")
    }

    @Test func authenticationAndUnknownPaths() throws {
        let client = try Client()
        let (unauthorized, status) = try client.call("GET", "/api/v1/pods", token: "nope")
        #expect(unauthorized == 401 && status["reason"] == "Unauthorized" && status["status"] == "Failure")
        #expect(try client.call("GET", "/api/v1/widgets").0 == 404)
        #expect(try client.call("PUT", "/api/v1/namespaces/default/pods/web").0 == 405)
    }

    @Test func listsFilterBySelectorsAndCarryAResourceVersion() throws {
        let client = try Client()
        var onOtherNode = PodFixtures.meshPod(name: "b", labels: ["app": "x"])
        if case .object(var object) = onOtherNode, case .object(var spec)? = object["spec"] {
            spec["nodeName"] = "node-b"
            object["spec"] = .object(spec)
            onOtherNode = .object(object)
        }
        _ = try client.call("POST", "/api/v1/namespaces/default/pods", body: PodFixtures.meshPod(name: "a", labels: ["app": "x"]))
        _ = try client.call("POST", "/api/v1/namespaces/default/pods", body: onOtherNode)
        _ = try client.call("POST", "/api/v1/namespaces/prod/pods", body: PodFixtures.plainPod(name: "c", namespace: "prod"))

        func names(_ path: String) throws -> [String] {
            let (status, list) = try client.call("GET", path)
            #expect(status == 200 && list["kind"] == "PodList" && list["metadata"]?["resourceVersion"]?.stringValue != nil)
            return (list["items"]?.arrayValue ?? []).compactMap { $0["metadata"]?["name"]?.stringValue }
        }
        #expect(try names("/api/v1/pods") == ["a", "b", "c"])
        #expect(try names("/api/v1/namespaces/default/pods") == ["a", "b"])
        #expect(try names("/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a") == ["a", "c"])
        #expect(try names("/api/v1/pods?labelSelector=app%3Dx,app!%3Dy") == ["a", "b"])
        #expect(try names("/api/v1/pods?labelSelector=!app") == ["c"])
    }

    @Test func otherGroupsAndHistory() throws {
        let client = try Client()
        let daemonSet = JSONValue.object(JSONObject([("metadata", .object(JSONObject([("name", "istio-cni-node")])))]))
        #expect(try client.call("POST", "/apis/apps/v1/namespaces/istio-system/daemonsets", body: daemonSet).0 == 201)
        let (status, fetched) = try client.call("GET", "/apis/apps/v1/namespaces/istio-system/daemonsets/istio-cni-node")
        #expect(status == 200 && fetched["kind"] == "DaemonSet" && fetched["apiVersion"] == "apps/v1")

        let store = client.emulator.store
        let start = store.currentResourceVersion
        try store.create(.pods, namespace: "default", PodFixtures.plainPod(name: "p"))
        try store.update(.pods, namespace: "default", name: "p") { $0["status"] = .object(JSONObject([("phase", "Running")])) }
        try store.delete(.pods, namespace: "default", name: "p")
        #expect(store.changes(after: start)?.map(\.kind) == [.added, .modified, .deleted])
        #expect(store.changes(after: start)?.map(\.resourceVersion) == [start + 1, start + 2, start + 3])
    }

    @Test func watchStreamsChangesFromAResourceVersionAndExpiresOldOnes() throws {
        let client = try Client()
        let store = client.emulator.store
        try store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "before"))
        let start = store.currentResourceVersion
        try store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "a"))
        try store.update(.pods, namespace: "default", name: "a") { $0["status"] = .object(JSONObject([("phase", "Running")])) }
        try store.delete(.pods, namespace: "default", name: "a")
        try store.create(.pods, namespace: "prod", PodFixtures.plainPod(name: "elsewhere", namespace: "prod"))

        let events = try client.watch("/api/v1/namespaces/default/pods?watch=1&resourceVersion=\(start)&timeoutSeconds=1")
        #expect(events.map { $0["type"]?.stringValue ?? "" } == ["ADDED", "MODIFIED", "DELETED"])
        #expect(events.map { $0["object"]?["metadata"]?["resourceVersion"]?.stringValue } == ["\(start + 1)", "\(start + 2)", "\(start + 3)"],
                "the DELETED object carries the deletion's resourceVersion")

        let fromNow = try client.watch("/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dnode-a&timeoutSeconds=1")
        #expect(fromNow.map { $0["object"]?["metadata"]?["name"]?.stringValue ?? "" } == ["before", "elsewhere"])
        #expect(fromNow.allSatisfy { $0["type"] == "ADDED" }, "no resourceVersion: the current objects, as ADDED")

        store.compactHistory()
        let expired = try client.watch("/api/v1/pods?watch=1&resourceVersion=\(start)&timeoutSeconds=1")
        #expect(expired.count == 1 && expired.first?["type"] == "ERROR")
        #expect(expired.first?["object"]?["code"]?.int64Value == 410 && expired.first?["object"]?["reason"] == "Expired")
    }

    @Test func liveWatchSeesLaterChangesAndCanBeCut() throws {
        let client = try Client()
        let store = client.emulator.store
        let start = store.currentResourceVersion
        let writer = Thread {
            while client.emulator.activeWatchCount == 0 { usleep(10_000) }
            _ = try? store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "late"))
            usleep(200_000)
            client.emulator.cutWatches()
        }
        writer.start()
        let events = try client.watch("/api/v1/pods?watch=1&resourceVersion=\(start)&timeoutSeconds=20", cut: true)
        #expect(events.map { $0["object"]?["metadata"]?["name"]?.stringValue } == ["late"])
        #expect(client.emulator.activeWatchCount == 0)
    }

    @Test func rotatedTokensAreAcceptedAndRevokedOnesRefused() throws {
        let client = try Client()
        client.emulator.acceptTokens(["new-token"])
        #expect(try client.call("GET", "/api/v1/pods", token: "new-token").0 == 200)
        #expect(try client.call("GET", "/api/v1/pods").0 == 401, "the old token was revoked")
    }
}
