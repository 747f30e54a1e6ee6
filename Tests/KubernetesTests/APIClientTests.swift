import Foundation
import JSON
import KubeEmulator
@testable import Kubernetes
import Testing
import TestSupport

/// The plugin's API client against the emulator over real TLS.
@Suite struct APIClientTests {
    func client(_ emulator: KubeEmulator, kubeconfig text: String? = nil) throws -> KubernetesClient {
        KubernetesClient(config: try Kubeconfig.parse(Array((text ?? emulator.kubeconfig()).utf8)))
    }

    func deadline() -> MonotonicClock.Instant { MonotonicClock.now.adding(milliseconds: 5000) }

    @Test(arguments: EmulatorIdentity.KeyType.allCases)
    func fetchesAPodOverVerifiedTLS(keyType: EmulatorIdentity.KeyType) throws {
        let emulator = try KubeEmulator(keyType: keyType)
        defer { emulator.stop() }
        try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "web"))
        let json = try client(emulator).get(KubernetesClient.podPath(namespace: "default", name: "web"), deadline: deadline())
        let pod = try Pod(json: json)
        #expect(pod.name == "web" && pod.namespace == "default" && !pod.uid.isEmpty && pod.resourceVersion == "1001")
        #expect(pod.containers.map(\.name) == ["app", "istio-proxy"])
        #expect(emulator.requests.last?.userAgent == KubernetesClient.userAgent)
    }

    @Test func verifiesTheServerIdentity() throws {
        let emulator = try KubeEmulator(keyType: .ecdsaP256, addresses: [])
        let requestsAtStart = emulator.requests.count
        let stranger = try KubeEmulator(keyType: .ecdsaP256)
        defer { emulator.stop(); stranger.stop() }
        try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "web"))
        let path = KubernetesClient.podPath(namespace: "default", name: "web")

        #expect {
            try client(emulator).get(path, deadline: deadline())
        } throws: { error in
            (error as? KubernetesError)?.message.contains("does not match the server name or address") == true
        }
        #expect(emulator.requests.count == requestsAtStart, "the IP mismatch is caught before the request is sent")
        let byName = emulator.kubeconfig(server: "https://localhost:\(emulator.port)")
        #expect((try? client(emulator, kubeconfig: byName).get(path, deadline: deadline())) != nil)
        let overridden = emulator.kubeconfig(extraCluster: [("tls-server-name", "kubernetes.default.svc")])
        #expect((try? client(emulator, kubeconfig: overridden).get(path, deadline: deadline())) != nil)
        let wrongName = emulator.kubeconfig(extraCluster: [("tls-server-name", "api.elsewhere.example")])
        #expect {
            try client(emulator, kubeconfig: wrongName).get(path, deadline: deadline())
        } throws: { error in
            (error as? KubernetesError)?.message.contains("certificate name: the server certificate does not match the server name") == true
        }

        let wrongCA = emulator.kubeconfig(server: "https://localhost:\(emulator.port)", caPEM: stranger.identity.caCertificatePEM)
        let requestsBefore = emulator.requests.count
        #expect {
            try client(emulator, kubeconfig: wrongCA).get(path, deadline: deadline())
        } throws: { error in
            (error as? KubernetesError)?.message.contains("unknown CA: the server certificate is not signed by the configured CA") == true
        }
        #expect(emulator.requests.count == requestsBefore, "no request (and so no token) was sent to an unverified server")

        let insecure = emulator.kubeconfig(caPEM: stranger.identity.caCertificatePEM, extraCluster: [("insecure-skip-tls-verify", true)])
        #expect((try? client(emulator, kubeconfig: insecure).get(path, deadline: deadline())) != nil)
    }

    @Test func apiErrorsCarryTheStatusMessage() throws {
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        defer { emulator.stop() }
        let path = KubernetesClient.podPath(namespace: "default", name: "missing")
        #expect {
            try client(emulator).get(path, deadline: deadline())
        } throws: { error in
            let kubernetesError = error as? KubernetesError
            return kubernetesError?.kind == .http(status: 404, retryAfterSeconds: nil)
                && kubernetesError?.message == "API answered 404 NotFound: pods \"missing\" not found"
        }
        #expect {
            try client(emulator, kubeconfig: emulator.kubeconfig(token: "wrong")).get(path, deadline: deadline())
        } throws: { error in
            (error as? KubernetesError)?.message == "API answered 401 Unauthorized: Unauthorized"
        }
        emulator.injectFault(.status(429, retryAfterSeconds: 7))
        #expect {
            try client(emulator).get(path, deadline: deadline())
        } throws: { error in
            (error as? KubernetesError)?.kind == .http(status: 429, retryAfterSeconds: 7)
        }
    }

    /// One request over the connection, read to the end (a TLS 1.3 server sends its tickets after the
    /// handshake, and the client keeps them when it closes).
    func exchange(_ connection: TLSConnection, emulator: KubeEmulator) throws {
        let request = "GET /api/v1/namespaces/default/pods/web HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(emulator.token)\r\n"
            + "Connection: close\r\n\r\n"
        try connection.write(Array(request.utf8))
        var response: [UInt8] = []
        while case let chunk = try connection.read(), !chunk.isEmpty { response += chunk }
        #expect(String(decoding: response.prefix(15), as: UTF8.self) == "HTTP/1.1 200 OK")
    }

    @Test(arguments: [(EmulatorTLSVersions.tls12Only, 12), (.tls13Only, 13)])
    func resumesTheTLSSessionAcrossConnections(versions: EmulatorTLSVersions, negotiated: Int) throws {
        let emulator = try KubeEmulator(keyType: .rsa2048, tlsVersions: versions)
        defer { emulator.stop() }
        try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "web"))
        let directory = try Paths.temporaryDirectory("session")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = directory.appendingPathComponent("istio-cni-tls-session").path
        let config = try Kubeconfig.parse(Array(emulator.kubeconfig().utf8))
        do {
            let first = try TLSConnection(config: config, sessionCachePath: cache, deadline: deadline())
            #expect(!first.resumed)
            #expect(first.protocolVersion == negotiated)
            try exchange(first, emulator: emulator)
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: cache)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let kept = try Data(contentsOf: URL(fileURLWithPath: cache))
        do {
            let second = try TLSConnection(config: config, sessionCachePath: cache, deadline: deadline())
            #expect(second.resumed)
            #expect(second.protocolVersion == negotiated)
            try exchange(second, emulator: emulator)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: cache)) == kept, "a resumed session is kept as it was, not rewritten by every process")
        // A session is only offered to the server (and CA) it came from.
        let other = try KubeEmulator(keyType: .rsa2048, tlsVersions: versions)
        defer { other.stop() }
        let third = try TLSConnection(config: try Kubeconfig.parse(Array(other.kubeconfig().utf8)), sessionCachePath: cache, deadline: deadline())
        #expect(!third.resumed)
    }

    /// A TLS 1.3 server sends its tickets after the handshake; a read the deadline cut short must not
    /// leave a half-processed ticket in the session file (the server would refuse it, and every later
    /// plugin process with it).
    @Test func aConnectionCutShortLeavesTheKeptSessionUsable() throws {
        let emulator = try KubeEmulator(keyType: .rsa2048)
        defer { emulator.stop() }
        try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "web"))
        let directory = try Paths.temporaryDirectory("session")
        defer { try? FileManager.default.removeItem(at: directory) }
        let client = KubernetesClient(config: try Kubeconfig.parse(Array(emulator.kubeconfig().utf8)),
                                      sessionCachePath: directory.appendingPathComponent("istio-cni-tls-session").path)
        let path = KubernetesClient.podPath(namespace: "default", name: "web")
        _ = try client.get(path, deadline: deadline())
        emulator.injectFault(.hang, count: 3)
        for _ in 0..<3 {
            #expect(throws: KubernetesError.self) { try client.get(path, deadline: MonotonicClock.now.adding(milliseconds: 250)) }
        }
        #expect(try Pod(json: try client.get(path, deadline: deadline())).name == "web")
    }

    @Test(arguments: [EmulatorTLSVersions.tls13Only, .tls12Only, .standard])
    func talksToServersOfEveryAcceptedVersion(versions: EmulatorTLSVersions) throws {
        let emulator = try KubeEmulator(keyType: .ecdsaP256, tlsVersions: versions)
        defer { emulator.stop() }
        try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "web"))
        let json = try client(emulator).get(KubernetesClient.podPath(namespace: "default", name: "web"), deadline: deadline())
        #expect(try Pod(json: json).name == "web")
    }

    @Test func aServerWithoutTLS12Or13IsNamedAsAVersionProblem() throws {
        let emulator = try KubeEmulator(keyType: .ecdsaP256, tlsVersions: EmulatorTLSVersions(minimum: .tls11, maximum: .tls11))
        defer { emulator.stop() }
        #expect {
            try client(emulator).get(KubernetesClient.podPath(namespace: "default", name: "web"), deadline: deadline())
        } throws: { error in
            (error as? KubernetesError)?.message.contains("protocol version") == true
        }
        #expect(emulator.requests.isEmpty)
    }

    @Test func lookupRetriesWithinItsBudget() throws {
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        defer { emulator.stop() }
        try emulator.store.create(.pods, namespace: "default", PodFixtures.meshPod(name: "web"))
        let directory = try Paths.temporaryDirectory("lookup")
        defer { try? FileManager.default.removeItem(at: directory) }
        let kubeconfig = directory.appendingPathComponent("istio-cni-kubeconfig")
        try emulator.kubeconfig(token: "expired").write(to: kubeconfig, atomically: true, encoding: .utf8)

        // The agent rotates the token while the plugin retries: the next attempt reads the new kubeconfig.
        var retries: [String] = []
        let pod = try PodLookup(kubeconfigPath: kubeconfig.path, budgetMilliseconds: 5000).fetch(namespace: "default", name: "web") { error, _ in
            retries.append(error.message)
            try? emulator.kubeconfig().write(to: kubeconfig, atomically: true, encoding: .utf8)
        }
        #expect(pod.name == "web")
        #expect(retries == ["API answered 401 Unauthorized: Unauthorized"])

        emulator.injectFault(.hang, count: nil)
        #expect {
            try PodLookup(kubeconfigPath: kubeconfig.path, budgetMilliseconds: 800).fetch(namespace: "default", name: "web")
        } throws: { error in
            let failure = error as? PodLookup.Failure
            return failure?.budgetExhausted == true && failure?.last.message.contains("timed out") == true
        }
    }
}

