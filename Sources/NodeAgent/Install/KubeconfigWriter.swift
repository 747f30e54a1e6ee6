import Foundation
import JSON

/// The plugin's kubeconfig, made from the agent's service account: written as JSON (the plugin then
/// needs no YAML parser) with the mode KUBECONFIG_MODE, and rewritten whenever the token or CA change
/// (projected tokens rotate by an atomic symlink swap in the service-account directory).
struct KubeconfigWriter: Sendable {
    let configuration: AgentConfiguration

    var path: String { configuration.kubeconfigPath }

    /// The server URL: https://host:port, an IPv6 host in brackets.
    func serverURL() throws(InstallError) -> String {
        guard let host = configuration.kubernetesServiceHost else {
            throw InstallError(.kubeconfig, "KUBERNETES_SERVICE_HOST is not set: is the agent running in a pod? (or pass --kubernetes-service-host)")
        }
        guard let port = configuration.kubernetesServicePort else {
            throw InstallError(.kubeconfig, "KUBERNETES_SERVICE_PORT is not set: is the agent running in a pod? (or pass --kubernetes-service-port)")
        }
        return host.contains(":") ? "https://[\(host)]:\(port)" : "https://\(host):\(port)"
    }

    func content() throws(InstallError) -> [UInt8] {
        let tokenPath = configuration.serviceAccountDir + "/token"
        let token: String
        do {
            token = String(decoding: try FileSystem.read(tokenPath), as: UTF8.self).trimmingCharacters(in: " \t\r\n")
        } catch {
            throw InstallError(.kubeconfig, "reading the service-account token: \(error)")
        }
        guard !token.isEmpty else { throw InstallError(.kubeconfig, "the service-account token \(tokenPath) is empty") }
        var cluster = JSONObject([("server", .string(try serverURL()))])
        if configuration.skipTLSVerify {
            cluster["insecure-skip-tls-verify"] = .bool(true)
        } else {
            let caPath = configuration.kubeCAFile ?? configuration.serviceAccountDir + "/ca.crt"
            let ca: [UInt8]
            do { ca = try FileSystem.read(caPath) } catch { throw InstallError(.kubeconfig, "reading the API server's CA: \(error)") }
            guard !ca.isEmpty else { throw InstallError(.kubeconfig, "the CA file \(caPath) is empty") }
            cluster["certificate-authority-data"] = .string(Data(ca).base64EncodedString())
        }
        let document = JSONObject([
            ("apiVersion", .string("v1")), ("kind", .string("Config")),
            ("clusters", .array([.object(JSONObject([("name", .string("local")), ("cluster", .object(cluster))]))])),
            ("users", .array([.object(JSONObject([("name", .string("istio-cni")), ("user", .object(JSONObject([("token", .string(token))])))]))])),
            ("contexts", .array([.object(JSONObject([("name", .string("istio-cni-context")), ("context", .object(JSONObject([
                ("cluster", .string("local")), ("user", .string("istio-cni")),
            ])))]))])),
            ("current-context", .string("istio-cni-context")),
        ])
        return Array((JSONSerializer.serialize(.object(document), pretty: true) + "\n").utf8)
    }

    /// Writes the kubeconfig when its content or mode differ; true when it wrote.
    @discardableResult
    func install() throws(InstallError) -> Bool {
        let wanted = try content()
        if FileSystem.readIfPresent(path) == wanted, FileSystem.status(path)?.mode == configuration.kubeconfigMode { return false }
        do {
            try AtomicFile.write(wanted, to: path, mode: configuration.kubeconfigMode)
        } catch {
            throw InstallError(.kubeconfig, "writing \(path): \(error)")
        }
        return true
    }

    func problems() -> [String] {
        guard let status = FileSystem.status(path) else { return ["\(path) is missing"] }
        if status.mode != configuration.kubeconfigMode { return ["\(path) has mode \(String(status.mode, radix: 8)), not \(String(configuration.kubeconfigMode, radix: 8))"] }
        return []
    }

    func uninstall() -> Bool {
        FileSystem.exists(path) && (try? FileSystem.remove(path)) != nil
    }
}
