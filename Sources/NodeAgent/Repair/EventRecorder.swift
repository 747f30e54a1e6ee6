import Glibc
import JSON
import Logging
import Synchronization

/// Writes core/v1 Events with source `cni-repair`, as `kubectl describe` shows them. A repeat of the
/// same event (same object, reason and message) patches the first one's count and lastTimestamp
/// instead of creating another, as client-go's event correlator does.
final class EventRecorder: Sendable {
    struct InvolvedObject: Sendable {
        let kind: String
        let namespace: String
        let name: String
        let uid: String

        static func pod(_ pod: JSONValue) -> InvolvedObject {
            InvolvedObject(kind: "Pod", namespace: pod["metadata"]?["namespace"]?.stringValue ?? "default",
                           name: pod["metadata"]?["name"]?.stringValue ?? "", uid: pod["metadata"]?["uid"]?.stringValue ?? "")
        }

        /// Node events live in the default namespace, as the kubelet's do.
        static func node(_ name: String, uid: String = "") -> InvolvedObject {
            InvolvedObject(kind: "Node", namespace: "", name: name, uid: uid.isEmpty ? name : uid)
        }

        var eventNamespace: String { namespace.isEmpty ? "default" : namespace }
    }

    static let component = "cni-repair"

    let api: KubeAPI
    let host: String
    let logger: Logger
    private let written = Mutex<[String: (name: String, count: Int)]>([:])

    init(api: KubeAPI, host: String, logger: Logger) {
        self.api = api
        self.host = host
        self.logger = logger
    }

    func warning(_ object: InvolvedObject, reason: String, message: String) async {
        await record(object, type: "Warning", reason: reason, message: message)
    }

    func normal(_ object: InvolvedObject, reason: String, message: String) async {
        await record(object, type: "Normal", reason: reason, message: message)
    }

    private func record(_ object: InvolvedObject, type: String, reason: String, message: String) async {
        let key = [object.kind, object.namespace, object.name, object.uid, reason, message].joined(separator: "\u{1}")
        let now = Self.timestamp()
        if let previous = written.withLock({ $0[key] }) {
            let patch = JSONValue.object(JSONObject([("count", .integer(previous.count + 1)), ("lastTimestamp", .string(now))]))
            do {
                _ = try await api.request(.PATCH, "/api/v1/namespaces/\(object.eventNamespace)/events/\(previous.name)", body: patch,
                                          contentType: "application/merge-patch+json")
                written.withLock { $0[key] = (previous.name, previous.count + 1) }
                return
            } catch where error.isNotFound {
                // Events expire (an hour by default); start a new one.
            } catch {
                logger.warning("repair: could not update event \(reason) on \(object.kind) \(object.name): \(error)")
                return
            }
        }
        let name = "\(object.name).\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        let event = JSONValue.object(JSONObject([
            ("apiVersion", .string("v1")), ("kind", .string("Event")),
            ("metadata", .object(JSONObject([("name", .string(name)), ("namespace", .string(object.eventNamespace))]))),
            ("involvedObject", .object(JSONObject([
                ("apiVersion", .string("v1")), ("kind", .string(object.kind)), ("name", .string(object.name)),
                ("uid", .string(object.uid)),
            ] + (object.namespace.isEmpty ? [] : [("namespace", JSONValue.string(object.namespace))])))),
            ("reason", .string(reason)), ("message", .string(message)), ("type", .string(type)),
            ("source", .object(JSONObject([("component", .string(Self.component)), ("host", .string(host))]))),
            ("reportingComponent", .string(Self.component)), ("reportingInstance", .string(host)),
            ("firstTimestamp", .string(now)), ("lastTimestamp", .string(now)), ("count", .integer(1)),
        ]))
        do {
            _ = try await api.request(.POST, "/api/v1/namespaces/\(object.eventNamespace)/events", body: event)
            // Bounded: the API server expires events after an hour anyway.
            written.withLock { events in
                if events.count >= 2000 { events.removeAll() }
                events[key] = (name, 1)
            }
        } catch {
            logger.warning("repair: could not write event \(reason) on \(object.kind) \(object.name): \(error)")
        }
    }

    /// RFC 3339 in UTC, formatted by hand: Foundation's ISO8601DateFormatter loads ICU, which costs
    /// the agent several MiB of resident memory for one string per event.
    static func timestamp(_ seconds: Int = time(nil)) -> String {
        var value = time_t(seconds)
        var parts = tm()
        gmtime_r(&value, &parts)
        func two(_ number: Int32) -> String { number < 10 ? "0\(number)" : "\(number)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
