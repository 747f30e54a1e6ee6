import Foundation
import JSON
import Kubernetes
import Synchronization

/// The emulator's object storage: every change bumps one global `resourceVersion` (as etcd's revision
/// does) and is recorded in a bounded change history, which is what watches will replay from.
public final class APIObjectStore: Sendable {
    public struct Change: Sendable {
        public enum Kind: String, Sendable { case added = "ADDED", modified = "MODIFIED", deleted = "DELETED" }
        public let kind: Kind
        public let resource: ResourceType
        public let object: JSONValue
        public let resourceVersion: Int
    }

    struct ObjectKey: Hashable {
        let resource: ResourceType
        let namespace: String
        let name: String
    }

    /// An object and its JSON encoding, made once per write (like the API server's serialization
    /// cache) so reads only copy bytes.
    struct StoredObject {
        let value: JSONValue
        let encoded: [UInt8]

        init(_ value: JSONValue) {
            self.value = value
            encoded = Array(JSONSerializer.serialize(value).utf8)
        }
    }

    private struct State {
        var resourceVersion = 1000
        var objects: [ObjectKey: StoredObject] = [:]
        var history: [Change] = []
        var subscribers: [Int: @Sendable (Change) -> Void] = [:]
        var nextSubscriber = 0
    }

    public static let historyLimit = 10_000
    private let state = Mutex(State())

    public init() {}

    public var currentResourceVersion: Int { state.withLock { $0.resourceVersion } }

    /// Creates an object, filling in what the API server fills in (uid, resourceVersion, timestamps).
    @discardableResult
    public func create(_ resource: ResourceType, namespace: String?, _ object: JSONValue) throws(APIStatus) -> JSONValue {
        guard var body = object.objectValue else { throw APIStatus.badRequest("request body is not a JSON object") }
        var metadata = body["metadata"]?.objectValue ?? JSONObject()
        guard let name = metadata["name"]?.stringValue, !name.isEmpty else {
            throw APIStatus(code: 422, reason: "Invalid", message: "\(resource.kind) \"\" is invalid: metadata.name: Required value")
        }
        let objectNamespace = resource.namespaced ? (namespace ?? metadata["namespace"]?.stringValue ?? "default") : ""
        if resource.namespaced { metadata["namespace"] = .string(objectNamespace) }
        metadata["uid"] = .string(UUID().uuidString.lowercased())
        metadata["creationTimestamp"] = .string(Self.timestamp())
        body["apiVersion"] = nil
        body["kind"] = nil
        body = JSONObject([("kind", .string(resource.kind)), ("apiVersion", .string(resource.apiVersion))] + body.members.map { ($0.key, $0.value) })
        let key = ObjectKey(resource: resource, namespace: objectNamespace, name: name)
        let result: Result<JSONValue, APIStatus> = state.withLock { state in
            guard state.objects[key] == nil else { return .failure(.alreadyExists(resource.plural, name)) }
            state.resourceVersion += 1
            metadata["resourceVersion"] = .string(String(state.resourceVersion))
            body["metadata"] = .object(metadata)
            let stored = JSONValue.object(body)
            state.objects[key] = StoredObject(stored)
            Self.record(&state, .added, resource, stored)
            return .success(stored)
        }
        return try result.get()
    }

    public func get(_ resource: ResourceType, namespace: String?, name: String) throws(APIStatus) -> JSONValue {
        try stored(resource, namespace: namespace, name: name).value
    }

    /// The object's JSON encoding, as the API serves it.
    func encoded(_ resource: ResourceType, namespace: String?, name: String) throws(APIStatus) -> [UInt8] {
        try stored(resource, namespace: namespace, name: name).encoded
    }

    private func stored(_ resource: ResourceType, namespace: String?, name: String) throws(APIStatus) -> StoredObject {
        let key = ObjectKey(resource: resource, namespace: resource.namespaced ? namespace ?? "default" : "", name: name)
        guard let object = state.withLock({ $0.objects[key] }) else { throw APIStatus.notFound(resource.plural, name) }
        return object
    }

    /// Every object of a type, in namespace and name order.
    public func objects(_ resource: ResourceType) -> [JSONValue] {
        list(resource, namespace: nil, selector: .everything).items
    }

    /// Objects of a type (in one namespace, or all), in name order, and the list's resourceVersion.
    func list(_ resource: ResourceType, namespace: String?, selector: ObjectSelector) -> (items: [JSONValue], resourceVersion: Int) {
        state.withLock { state in
            let items = state.objects
                .filter { $0.key.resource == resource && (namespace == nil || $0.key.namespace == namespace) && selector.matches($0.value.value) }
                .sorted { ($0.key.namespace, $0.key.name) < ($1.key.namespace, $1.key.name) }
                .map(\.value.value)
            return (items, state.resourceVersion)
        }
    }

    /// Replaces an object by applying `update` to the stored copy; bumps its resourceVersion.
    @discardableResult
    public func update(_ resource: ResourceType, namespace: String?, name: String,
                       _ update: (inout JSONObject) -> Void) throws(APIStatus) -> JSONValue {
        try modify(resource, namespace: namespace, name: name) { current throws(APIStatus) in
            var body = current
            update(&body)
            return body
        }
    }

    /// Replaces an object with `transform(stored copy)` under the store's lock, so the transform sees
    /// the version it replaces (what resourceVersion preconditions need); bumps its resourceVersion.
    func modify(_ resource: ResourceType, namespace: String?, name: String,
                _ transform: (JSONObject) throws(APIStatus) -> JSONObject) throws(APIStatus) -> JSONValue {
        let key = ObjectKey(resource: resource, namespace: resource.namespaced ? namespace ?? "default" : "", name: name)
        let result: Result<JSONValue, APIStatus> = state.withLock { state in
            guard let current = state.objects[key]?.value.objectValue else { return .failure(.notFound(resource.plural, name)) }
            var body: JSONObject
            do throws(APIStatus) { body = try transform(current) } catch { return .failure(error) }
            state.resourceVersion += 1
            var metadata = body["metadata"]?.objectValue ?? JSONObject()
            metadata["resourceVersion"] = .string(String(state.resourceVersion))
            body["metadata"] = .object(metadata)
            let stored = JSONValue.object(body)
            state.objects[key] = StoredObject(stored)
            Self.record(&state, .modified, resource, stored)
            return .success(stored)
        }
        return try result.get()
    }

    /// Deletes an object; `precondition` sees it first and may refuse (DeleteOptions.preconditions).
    @discardableResult
    public func delete(_ resource: ResourceType, namespace: String?, name: String,
                       precondition: (JSONValue) throws(APIStatus) -> Void = { _ throws(APIStatus) in }) throws(APIStatus) -> JSONValue {
        let key = ObjectKey(resource: resource, namespace: resource.namespaced ? namespace ?? "default" : "", name: name)
        let result: Result<JSONValue, APIStatus> = state.withLock { state in
            guard let existing = state.objects[key] else { return .failure(.notFound(resource.plural, name)) }
            do throws(APIStatus) { try precondition(existing.value) } catch { return .failure(error) }
            state.objects.removeValue(forKey: key)
            state.resourceVersion += 1
            // The API server stamps the deletion's resourceVersion on the DELETED object, so a client
            // resuming from the last object it saw does not replay the deletion.
            var body = existing.value.objectValue ?? JSONObject()
            var metadata = body["metadata"]?.objectValue ?? JSONObject()
            metadata["resourceVersion"] = .string(String(state.resourceVersion))
            body["metadata"] = .object(metadata)
            Self.record(&state, .deleted, resource, .object(body))
            return .success(.object(body))
        }
        return try result.get()
    }

    /// Changes after `resourceVersion`, or nil when the history no longer reaches back that far (410 Gone).
    public func changes(after resourceVersion: Int) -> [Change]? {
        state.withLock { state in
            if let oldest = state.history.first, oldest.resourceVersion > resourceVersion + 1 { return nil }
            return state.history.filter { $0.resourceVersion > resourceVersion }
        }
    }

    /// Starts a watch: atomically, the changes after `resourceVersion` (nil: the history no longer
    /// reaches back that far) and a subscription that gets every later change, in order. With
    /// `resourceVersion` nil the backlog is the current objects as ADDED events, as the API server
    /// starts a watch that names no version. `onChange` runs under the store's lock: it must only hand
    /// the change on (to an event loop), never block.
    func subscribe(after resourceVersion: Int?, _ onChange: @escaping @Sendable (Change) -> Void) -> (backlog: [Change]?, subscription: Int) {
        state.withLock { state in
            let backlog: [Change]?
            if let resourceVersion {
                if let oldest = state.history.first, oldest.resourceVersion > resourceVersion + 1 {
                    backlog = nil
                } else if state.history.isEmpty, resourceVersion < state.resourceVersion {
                    backlog = nil
                } else {
                    backlog = state.history.filter { $0.resourceVersion > resourceVersion }
                }
            } else {
                backlog = state.objects.sorted { ($0.key.namespace, $0.key.name) < ($1.key.namespace, $1.key.name) }.map {
                    Change(kind: .added, resource: $0.key.resource, object: $0.value.value,
                           resourceVersion: Int($0.value.value["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? state.resourceVersion)
                }
            }
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = onChange
            return (backlog, id)
        }
    }

    /// Calls `onChange` with every later change, in order, under the store's lock (it must not block
    /// or call back into the store). For benchmarks that time what clients do.
    public func observe(_ onChange: @escaping @Sendable (Change) -> Void) {
        _ = subscribe(after: currentResourceVersion, onChange)
    }

    func unsubscribe(_ subscription: Int) {
        state.withLock { _ = $0.subscribers.removeValue(forKey: subscription) }
    }

    /// Forgets the change history, as etcd compaction does: watches from an older resourceVersion
    /// then get 410 Gone and clients must list again.
    public func compactHistory() {
        state.withLock { $0.history.removeAll() }
    }

    private static func record(_ state: inout State, _ kind: Change.Kind, _ resource: ResourceType, _ object: JSONValue) {
        let change = Change(kind: kind, resource: resource, object: object, resourceVersion: state.resourceVersion)
        state.history.append(change)
        if state.history.count > historyLimit { state.history.removeFirst(state.history.count - historyLimit) }
        for subscriber in state.subscribers.values { subscriber(change) }
    }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}
