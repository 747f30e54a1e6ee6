import JSON
import Synchronization

/// The pods already repaired in place (namespace/name → UID), kept in the run dir so an agent restart
/// (a rollout, an OOM kill) does not program them again. A pod of the same name with another UID
/// is a new pod.
final class RepairedPodsMemory: Sendable {
    let path: String
    private let pods: Mutex<[String: String]>

    init(runDirectory: String) {
        path = runDirectory + "/repaired-pods.json"
        var loaded: [String: String] = [:]
        if let bytes = FileSystem.readIfPresent(path), let document = try? JSONParser.parse(bytes),
           let entries = document["pods"]?.objectValue {
            for (key, value) in entries.members { if let uid = value.stringValue { loaded[key] = uid } }
        }
        pods = Mutex(loaded)
    }

    var count: Int { pods.withLock { $0.count } }

    func wasRepaired(_ key: String, uid: String) -> Bool {
        pods.withLock { $0[key] == uid }
    }

    func remember(_ key: String, uid: String) {
        pods.withLock { $0[key] = uid }
        save()
    }

    func forget(_ key: String) {
        guard pods.withLock({ $0.removeValue(forKey: key) }) != nil else { return }
        save()
    }

    /// Drops entries for pods that no longer exist (after a full list).
    func keepOnly(_ present: Set<String>) {
        let changed = pods.withLock { pods -> Bool in
            let before = pods.count
            pods = pods.filter { present.contains($0.key) }
            return pods.count != before
        }
        if changed { save() }
    }

    private func save() {
        let snapshot = pods.withLock { $0 }
        let entries = snapshot.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }
        let document = JSONValue.object(JSONObject([("pods", .object(JSONObject(entries)))]))
        try? AtomicFile.write(Array(JSONSerializer.serialize(document, pretty: true).utf8), to: path, mode: 0o600)
    }
}
