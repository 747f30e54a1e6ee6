import JSON

/// The fields of a v1 Pod that istio-cni reads, decoded from the API's JSON.
public struct Pod: Sendable {
    public struct Container: Sendable, Equatable {
        public var name: String
        public var args: [String]
        /// Literal env values only (`valueFrom` entries have no value the plugin could read).
        public var environment: [String: String]
        public var runAsUser: Int64?
        public var runAsGroup: Int64?
    }

    public let name: String
    public let namespace: String
    public let uid: String
    public let resourceVersion: String
    public let labels: [String: String]
    public let annotations: [String: String]
    public let containers: [Container]
    public let initContainers: [Container]
    public let nodeName: String?

    public init(json: JSONValue) throws(KubernetesError) {
        guard let metadata = json["metadata"]?.objectValue,
              let name = metadata["name"]?.stringValue,
              let namespace = metadata["namespace"]?.stringValue else {
            throw KubernetesError(.decoding, "API response is not a Pod (no metadata.name/namespace)")
        }
        self.name = name
        self.namespace = namespace
        uid = metadata["uid"]?.stringValue ?? ""
        resourceVersion = metadata["resourceVersion"]?.stringValue ?? ""
        labels = try Self.stringMap(metadata["labels"], field: "metadata.labels")
        annotations = try Self.stringMap(metadata["annotations"], field: "metadata.annotations")
        let spec = json["spec"]
        containers = try Self.containers(spec?["containers"], field: "spec.containers")
        initContainers = try Self.containers(spec?["initContainers"], field: "spec.initContainers")
        nodeName = spec?["nodeName"]?.stringValue
    }

    private static func stringMap(_ value: JSONValue?, field: String) throws(KubernetesError) -> [String: String] {
        guard let value, !value.isNull else { return [:] }
        guard let object = value.objectValue else { throw KubernetesError(.decoding, "Pod \(field) is not an object") }
        var map: [String: String] = [:]
        for (key, entry) in object.members {
            guard let string = entry.stringValue else { throw KubernetesError(.decoding, "Pod \(field)[\(key)] is not a string") }
            map[key] = string
        }
        return map
    }

    private static func containers(_ value: JSONValue?, field: String) throws(KubernetesError) -> [Container] {
        guard let value, !value.isNull else { return [] }
        guard let array = value.arrayValue else { throw KubernetesError(.decoding, "Pod \(field) is not an array") }
        var result: [Container] = []
        for (index, entry) in array.enumerated() {
            guard let name = entry["name"]?.stringValue else {
                throw KubernetesError(.decoding, "Pod \(field)[\(index)] has no name")
            }
            var environment: [String: String] = [:]
            for variable in entry["env"]?.arrayValue ?? [] {
                if let key = variable["name"]?.stringValue, let literal = variable["value"]?.stringValue {
                    environment[key] = literal
                }
            }
            let security = entry["securityContext"]
            result.append(Container(name: name,
                                    args: (entry["args"]?.arrayValue ?? []).compactMap(\.stringValue),
                                    environment: environment,
                                    runAsUser: security?["runAsUser"]?.int64Value,
                                    runAsGroup: security?["runAsGroup"]?.int64Value))
        }
        return result
    }
}
