import JSON

/// A pod as the watch delivered it, decoded and encoded once for every sink: the sinks that keep the
/// encoding then share one copy of its bytes.
struct WatchedPod: Sendable {
    let object: JSONValue
    let encoded: [UInt8]
    /// namespace/name
    let key: String
    let uid: String

    init?(_ object: JSONValue) {
        guard let namespace = object["metadata"]?["namespace"]?.stringValue, let name = object["metadata"]?["name"]?.stringValue else { return nil }
        self.object = object
        encoded = Array(JSONSerializer.serialize(object).utf8)
        key = namespace + "/" + name
        uid = object["metadata"]?["uid"]?.stringValue ?? ""
    }
}

/// Something the node's pod watch feeds: the pod cache and the repair loop share one watch.
/// Both calls come from the watch's task, in order, and must not block.
protocol PodEventSink: Sendable {
    /// A fresh list: everything not in `pods` is gone.
    func replaceAll(_ pods: [WatchedPod])
    /// One watch event: ADDED, MODIFIED or DELETED.
    func apply(type: String, pod: WatchedPod)
}

extension PodCache: PodEventSink {}
