import CNI
import IPTables
import Interception
import JSON
import Kubernetes
import Manifests
import Yams

/// The parsers that read untrusted bytes, each with the invariant its output must keep. A violated
/// invariant stops the process (libFuzzer records the input as a crash).
enum FuzzTarget: String, CaseIterable {
    /// The network configuration on stdin with its prevResult, in every CNI version.
    case cniConfig = "cni-config"
    /// `CNI_ARGS`.
    case cniArgs = "cni-args"
    /// Pod annotations, through the decision to the iptables text the rules become.
    case annotations
    /// The kubeconfig, JSON or YAML.
    case kubeconfig
    /// The node agent's edit of a primary CNI config: random primaries in.
    case configMerge = "config-merge"
    /// Helm-style values (and `--set` assignments) through to the rendered manifests.
    case values
    /// The plugin's HTTP/1.1 response reader (status line, headers, chunked framing), as the API
    /// server or the node agent's socket would feed it.
    case httpResponse = "http-response"
    /// A plugin report as the node agent reads it from its socket.
    case pluginReport = "plugin-report"

    func run(_ bytes: [UInt8]) {
        switch self {
        case .cniConfig: Self.networkConfig(bytes)
        case .cniArgs: _ = try? CNIArgs.parse(String(decoding: bytes, as: UTF8.self))
        case .annotations: Self.annotations(bytes)
        case .kubeconfig: _ = try? Kubeconfig.parse(bytes, directory: "/nonexistent")
        case .configMerge: ConfigMergeInvariant.check(bytes)
        case .values: Self.values(bytes)
        case .httpResponse: HTTPFramingInvariant.check(bytes)
        case .pluginReport: PluginReportInvariant.check(bytes)
        }
    }

    /// A parsed prevResult must re-encode in every version that can express it, and what it encodes
    /// to must decode again.
    private static func networkConfig(_ bytes: [UInt8]) {
        guard let config = try? NetworkConfig.parse(bytes), let result = config.prevResult else { return }
        for version in CNIVersion.allCases {
            guard let encoded = try? CNIResultEncoder.encode(result, version: version) else { continue }
            let text = JSONSerializer.serialize(encoded)
            guard let reparsed = try? JSONParser.parse(Array(text.utf8)) else { fatalError("encoded result is not JSON: \(text)") }
            if (try? CNIResultDecoder.decode(reparsed, version: version)) == nil { fatalError("encoded result does not decode in \(version): \(text)") }
        }
    }

    /// The bytes, split at NUL, become the values of every traffic annotation of a sidecar pod, then the
    /// owner-group variables. Any value either fails validation or reaches the rules only as typed
    /// values: every line of the restore text is a table, chain, rule or COMMIT line without control
    /// characters, and a list's rules, expanded, are exactly one rule per template and value.
    private static func annotations(_ bytes: [UInt8]) {
        let values = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let keys = [IstioAnnotation.interceptionMode, IstioAnnotation.includeOutboundIPRanges, IstioAnnotation.excludeOutboundIPRanges,
                    IstioAnnotation.includeInboundPorts, IstioAnnotation.excludeInboundPorts, IstioAnnotation.includeOutboundPorts,
                    IstioAnnotation.excludeOutboundPorts, IstioAnnotation.excludeInterfaces, IstioAnnotation.rerouteVirtualInterfaces]
        var annotations = [IstioAnnotation.status: #"{"containers":["istio-proxy"]}"#]
        for (key, value) in zip(keys, values) { annotations[key] = value }
        var environment: [String: String] = [:]
        for (key, value) in zip([PluginProcessEnvironment.ownerGroupsInclude, PluginProcessEnvironment.ownerGroupsExclude], values.dropFirst(keys.count)) {
            environment[key] = value
        }
        let pod = PodFacts(name: "fuzz", namespace: "default", annotations: annotations,
                           containers: [ContainerFacts(name: "app"), ContainerFacts(name: ContainerFacts.proxyContainerName, args: ["proxy", "sidecar"])])
        guard case .intercept(let policy)? = try? MeshSelection.decide(pod, processEnvironment: environment) else { return }
        let rules = RedirectPlan(policy).rules(ipv6: true)
        for entry in rules.entries {
            guard case .repeated(let repeated) = entry.content else { continue }
            if repeated.expanded.count != repeated.templates.count * repeated.values.count { fatalError("a list expanded to the wrong number of rules") }
        }
        for family in [AddressFamily.ipv4, .ipv6] {
            for line in IPTablesRestoreRenderer.render(rules, family: family).split(separator: "\n") {
                let wellFormed = line.hasPrefix("*") || line.hasPrefix(":") || ["-N ", "-A ", "-I "].contains { line.hasPrefix($0) } || line == "COMMIT"
                if !wellFormed || line.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                    fatalError("annotation text reached the rules: \(line)")
                }
            }
        }
    }

    /// Bytes up to the first NUL are a values file, each later line a `--set`. Whatever is accepted
    /// renders into YAML documents that parse again and each name their kind.
    private static func values(_ bytes: [UInt8]) {
        let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        let assignments = parts.count > 1 ? parts[1].split(separator: "\n").map(String.init) : []
        guard let values = try? ManifestGenerator.values(files: [("fuzz.yaml", parts[0])], assignments: assignments) else { return }
        guard let text = try? ManifestGenerator.render(values) else { fatalError("accepted values do not render") }
        guard let documents = try? Array(Yams.compose_all(yaml: text)) else { fatalError("rendered manifests are not YAML:\n\(text)") }
        for document in documents where document["kind"]?.string == nil { fatalError("a rendered document has no kind:\n\(text)") }
    }
}
