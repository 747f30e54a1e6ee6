import JSON

/// The parts of a kubeconfig the plugin uses: where the API server is, how to trust it, and the
/// bearer token. JSON (what our node agent writes) and YAML (what operators write) are both accepted.
public struct Kubeconfig: Sendable, Equatable {
    public let host: String
    public let port: String
    /// PEM CA bundle; nil only with `insecureSkipTLSVerify`.
    public let certificateAuthority: [UInt8]?
    public let insecureSkipTLSVerify: Bool
    /// Name to verify the server certificate against, when it differs from the host.
    public let tlsServerName: String?
    public let token: String

    public var serverDescription: String {
        "https://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    public static func load(path: String) throws(KubernetesError) -> Kubeconfig {
        let bytes = try FileContents.read(path, what: "kubeconfig")
        do throws(KubernetesError) {
            return try parse(bytes, directory: directory(of: path))
        } catch {
            throw KubernetesError(error.kind, "kubeconfig \(path): \(error.message)")
        }
    }

    public static func parse(_ bytes: [UInt8], directory: String = ".") throws(KubernetesError) -> Kubeconfig {
        let text = String(decoding: bytes, as: UTF8.self)
        let document: JSONValue
        if text.drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).hasPrefix("{") {
            do { document = try JSONParser.parse(bytes) } catch { throw invalid("not valid JSON: \(error)") }
        } else {
            document = try KubeconfigYAML.parse(text)
        }
        guard let root = document.objectValue else { throw invalid("is not a kubeconfig (expected a mapping)") }
        let (clusterName, userName) = try selectContext(root)
        let cluster = try namedEntry(root, list: "clusters", field: "cluster", name: clusterName)
        let user = try namedEntry(root, list: "users", field: "user", name: userName)

        guard let server = cluster["server"]?.stringValue, !server.isEmpty else { throw invalid("cluster has no server") }
        let (host, port) = try parseServer(server)
        let insecure = cluster["insecure-skip-tls-verify"]?.boolValue ?? false
        var authority: [UInt8]?
        if let data = cluster["certificate-authority-data"]?.stringValue, !data.isEmpty {
            guard let decoded = Base64.decode(data) else { throw invalid("certificate-authority-data is not valid base64") }
            authority = decoded
        } else if let file = cluster["certificate-authority"]?.stringValue, !file.isEmpty {
            authority = try FileContents.read(resolve(file, in: directory), what: "certificate-authority file")
        }
        if authority == nil, !insecure {
            throw invalid("cluster has neither certificate-authority(-data) nor insecure-skip-tls-verify: true")
        }
        var token = user["token"]?.stringValue ?? ""
        if token.isEmpty, let file = user["tokenFile"]?.stringValue, !file.isEmpty {
            token = String(decoding: try FileContents.read(resolve(file, in: directory), what: "tokenFile"), as: UTF8.self)
        }
        token = String(token.filter { !$0.isWhitespace })
        guard !token.isEmpty else {
            throw invalid("user has no token (istio-cni authenticates with a service-account bearer token; client certificates are not supported)")
        }
        let serverName = cluster["tls-server-name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        return Kubeconfig(host: host, port: port, certificateAuthority: authority, insecureSkipTLSVerify: insecure,
                          tlsServerName: serverName, token: token)
    }

    private static func selectContext(_ root: JSONObject) throws(KubernetesError) -> (String?, String?) {
        let contexts = root["contexts"]?.arrayValue ?? []
        if let current = root["current-context"]?.stringValue, !current.isEmpty {
            guard let context = contexts.first(where: { $0["name"]?.stringValue == current })?["context"] else {
                throw invalid("current-context \"\(current)\" is not among the contexts")
            }
            return (context["cluster"]?.stringValue, context["user"]?.stringValue)
        }
        if contexts.count == 1, let context = contexts[0]["context"] {
            return (context["cluster"]?.stringValue, context["user"]?.stringValue)
        }
        return (nil, nil)
    }

    /// The entry of `list` named `name`, or the only entry when no context names one.
    private static func namedEntry(_ root: JSONObject, list: String, field: String, name: String?) throws(KubernetesError) -> JSONObject {
        let entries = root[list]?.arrayValue ?? []
        let entry: JSONValue?
        if let name {
            entry = entries.first { $0["name"]?.stringValue == name }
            if entry == nil { throw invalid("no \(field) named \"\(name)\" in \(list)") }
        } else {
            guard entries.count == 1 else { throw invalid("no current-context and \(entries.count) \(list); cannot tell which to use") }
            entry = entries[0]
        }
        guard let object = entry?[field]?.objectValue else { throw invalid("\(list) entry has no \(field) mapping") }
        return object
    }

    static func parseServer(_ server: String) throws(KubernetesError) -> (String, String) {
        guard server.hasPrefix("https://") else {
            throw invalid("server \"\(server)\" must be an https:// URL")
        }
        var authority = Substring(server.dropFirst("https://".count))
        if let slash = authority.firstIndex(of: "/") {
            guard authority[slash...].allSatisfy({ $0 == "/" }) else {
                throw invalid("server \"\(server)\" has a path, which istio-cni does not support")
            }
            authority = authority[..<slash]
        }
        let host: Substring
        var port: Substring = "443"
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("server \"\(server)\" has an unterminated IPv6 address") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            if rest.hasPrefix(":") { port = rest.dropFirst() } else if !rest.isEmpty { throw invalid("server \"\(server)\" is malformed") }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty, let number = Int(port), (1...65535).contains(number) else {
            throw invalid("server \"\(server)\" has no valid host and port")
        }
        return (String(host), String(number))
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func resolve(_ file: String, in directory: String) -> String {
        file.hasPrefix("/") ? file : directory + "/" + file
    }

    private static func invalid(_ message: String) -> KubernetesError {
        KubernetesError(.kubeconfigInvalid, message)
    }
}
