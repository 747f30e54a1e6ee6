import JSON
import Kubernetes

/// A `?watch=1` request: which objects, from which resourceVersion, for how long.
struct WatchRequest: Sendable {
    let resource: ResourceType
    let namespace: String?
    let selector: ObjectSelector
    /// nil: start with the current objects (the API server's "no resourceVersion" semantics).
    let resourceVersion: Int?
    let timeoutSeconds: Int?

    init(resource: ResourceType, namespace: String?, query: [String: String]) throws(APIStatus) {
        self.resource = resource
        self.namespace = namespace
        selector = try ObjectSelector.from(query)
        switch query["resourceVersion"] {
        case nil, "", "0": resourceVersion = nil
        case let text?:
            guard let version = Int(text), version >= 0 else {
                throw APIStatus.badRequest("invalid resourceVersion \"\(text)\"")
            }
            resourceVersion = version
        }
        if let text = query["timeoutSeconds"] {
            guard let seconds = Int(text), seconds >= 0 else { throw APIStatus.badRequest("invalid timeoutSeconds \"\(text)\"") }
            timeoutSeconds = seconds
        } else {
            timeoutSeconds = nil
        }
    }

    func matches(_ change: APIObjectStore.Change) -> Bool {
        guard change.resource == resource else { return false }
        if let namespace, change.object["metadata"]?["namespace"]?.stringValue != namespace { return false }
        return selector.matches(change.object)
    }

    /// One line of the stream: `{"type":"ADDED","object":{...}}`.
    static func eventLine(_ change: APIObjectStore.Change) -> [UInt8] {
        Array((JSONSerializer.serialize(.object(JSONObject([("type", .string(change.kind.rawValue)), ("object", change.object)]))) + "\n").utf8)
    }

    /// What the API server sends when the requested resourceVersion was compacted away.
    func expiredLine(current: Int) -> [UInt8] {
        let status = APIStatus(code: 410, reason: "Expired",
                               message: "too old resource version: \(resourceVersion ?? 0) (\(current))")
        return Array((JSONSerializer.serialize(.object(JSONObject([("type", .string("ERROR")), ("object", status.json)]))) + "\n").utf8)
    }
}
