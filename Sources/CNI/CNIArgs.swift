/// `CNI_ARGS`: `K=V` pairs separated by `;`. Like libcni's `LoadArgs`, an unknown key is an error
/// unless `IgnoreUnknown` is true (runtimes always send `IgnoreUnknown=1`); the last duplicate wins.
public struct CNIArgs: Sendable, Equatable {
    public static let kubernetesKeys: Set<String> = [
        "K8S_POD_NAME", "K8S_POD_NAMESPACE", "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID",
    ]

    public private(set) var values: [String: String] = [:]
    public private(set) var ignoreUnknown = false

    public init() {}

    public var podName: String? { values["K8S_POD_NAME"].flatMap { $0.isEmpty ? nil : $0 } }
    public var podNamespace: String? { values["K8S_POD_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 } }
    public var podInfraContainerID: String? { values["K8S_POD_INFRA_CONTAINER_ID"] }
    public var podUID: String? { values["K8S_POD_UID"] }

    public static func parse(_ text: String, knownKeys: Set<String> = kubernetesKeys) throws(CNIError) -> CNIArgs {
        var args = CNIArgs()
        var unknown: [String] = []
        for pair in text.split(separator: ";", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw CNIError(.invalidEnvironment, "CNI_ARGS: invalid pair \"\(pair)\", expected KEY=VALUE")
            }
            let key = String(parts[0])
            let value = String(parts[1])
            if key == "IgnoreUnknown" {
                switch value.lowercased() {
                case "1", "true": args.ignoreUnknown = true
                case "0", "false": args.ignoreUnknown = false
                default:
                    throw CNIError(.invalidEnvironment, "CNI_ARGS: IgnoreUnknown=\"\(value)\" is not a boolean (1, true, 0, false)")
                }
                continue
            }
            if !knownKeys.contains(key) { unknown.append(key) }
            args.values[key] = value
        }
        if !unknown.isEmpty, !args.ignoreUnknown {
            throw CNIError(.invalidEnvironment,
                           "CNI_ARGS: unknown key \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) and IgnoreUnknown is not set")
        }
        return args
    }
}
