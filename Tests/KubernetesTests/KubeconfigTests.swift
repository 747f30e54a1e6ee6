import Foundation
import JSON
import KubeEmulator
import Kubernetes
import Testing
import TestSupport

@Suite struct KubeconfigTests {
    static let caPEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    static let caData = Data(caPEM.utf8).base64EncodedString()

    func parse(_ text: String, directory: String = "/nonexistent") throws(KubernetesError) -> Kubeconfig {
        try Kubeconfig.parse(Array(text.utf8), directory: directory)
    }

    @Test func kubectlStyleYAML() throws {
        let config = try parse("""
        apiVersion: v1
        kind: Config   # written by kubectl
        clusters:
        - cluster:
            certificate-authority-data: \(Self.caData)
            server: https://10.96.0.1:443
          name: other
        - name: "local"
          cluster:
            server: 'https://[fd00::1]:6443'
            certificate-authority-data: >-
        """.replacingOccurrences(of: ">-", with: "\(Self.caData)") + """

            tls-server-name: kubernetes.default.svc
        contexts:
        - context: {cluster: local, user: istio-cni}
          name: ctx
        current-context: ctx
        preferences: {}
        users:
        - name: istio-cni
          user:
            token: "abc.def"
        """)
        #expect(config.host == "fd00::1" && config.port == "6443")
        #expect(config.serverDescription == "https://[fd00::1]:6443")
        #expect(config.certificateAuthority == Array(Self.caPEM.utf8))
        #expect(config.tlsServerName == "kubernetes.default.svc")
        #expect(config.token == "abc.def")
    }

    @Test func jsonAsTheAgentWritesIt() throws {
        let emulator = try KubeEmulator(keyType: .ecdsaP256)
        defer { emulator.stop() }
        let config = try parse(emulator.kubeconfig())
        #expect(config.host == "127.0.0.1" && config.port == String(emulator.port))
        #expect(config.token == emulator.token)
        #expect(config.certificateAuthority == Array(emulator.identity.caCertificatePEM.utf8))
    }

    @Test func filesAreResolvedNextToTheKubeconfig() throws {
        let directory = try Paths.temporaryDirectory("kcfg")
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.caPEM.write(to: directory.appendingPathComponent("ca.crt"), atomically: true, encoding: .utf8)
        try "token-from-file\n".write(to: directory.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        let config = try parse("""
        clusters: [{name: c, cluster: {server: "https://localhost", certificate-authority: ca.crt}}]
        users:
        - name: u
          user: {tokenFile: token}
        contexts: [{name: x, context: {cluster: c, user: u}}]
        """, directory: directory.path)
        #expect(config.port == "443")
        #expect(config.token == "token-from-file")
        #expect(config.certificateAuthority == Array(Self.caPEM.utf8))
    }

    @Test func insecureNeedsNoCertificateAuthority() throws {
        let config = try parse("""
        clusters: [{name: c, cluster: {server: "https://192.0.2.1:6443", insecure-skip-tls-verify: true}}]
        users: [{name: u, user: {token: t}}]
        """)
        #expect(config.insecureSkipTLSVerify && config.certificateAuthority == nil)
    }

    @Test(arguments: [
        ("clusters: [{name: c, cluster: {server: \"http://x\", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]", "must be an https:// URL"),
        ("clusters: [{name: c, cluster: {server: \"https://x\"}}]\nusers: [{name: u, user: {token: t}}]", "neither certificate-authority"),
        ("clusters: [{name: c, cluster: {server: \"https://x\", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {client-certificate-data: AAAA}}]", "client certificates are not supported"),
        ("clusters: [{name: c, cluster: {server: \"https://x\", certificate-authority-data: \"!!\"}}]\nusers: [{name: u, user: {token: t}}]", "not valid base64"),
        ("current-context: nope\ncontexts: []", "current-context \"nope\""),
        ("clusters:\n- &anchor {name: c}", "line 2: unsupported YAML feature '&'"),
        ("clusters:\n\t- a", "line 2: tab used for indentation"),
        ("{\"clusters\": [", "not valid JSON"),
        ("- just\n- a list", "is not a kubeconfig"),
    ])
    func rejectsUnusableKubeconfigs(text: String, fragment: String) {
        #expect {
            try parse(text)
        } throws: { error in
            let kubernetesError = error as? KubernetesError
            return kubernetesError?.kind == .kubeconfigInvalid && kubernetesError?.message.contains(fragment) == true
        }
    }

    @Test func missingAndUnreadableFilesAreDistinguished() throws {
        #expect {
            try Kubeconfig.load(path: "/nonexistent/kubeconfig")
        } throws: { error in
            (error as? KubernetesError)?.kind == .kubeconfigMissing
        }
        #expect {
            try Kubeconfig.load(path: "/")
        } throws: { error in
            (error as? KubernetesError)?.kind == .kubeconfigUnreadable
        }
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        components(separatedBy: target).joined(separator: replacement)
    }
}
