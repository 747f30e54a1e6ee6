import JSON
import Synchronization

/// The pods of this node as the agent's watch last saw them, for the plugin to ask over the agent
/// socket. A lookup for a pod not seen yet may wait a little: the plugin often runs moments after the
/// pod was created, and the watch event is usually on its way.
public final class PodCache: Sendable {
    public enum Lookup: Sendable, Equatable {
        /// The Pod object, encoded as the API sent it.
        case found([UInt8])
        case notFound
        /// The first list has not completed yet.
        case notSynced
    }

    struct Entry: Sendable {
        let uid: String
        let encoded: [UInt8]
    }

    private struct Waiter {
        let key: String
        let uid: String?
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var pods: [String: Entry] = [:]
        var synced = false
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var count: Int { state.withLock { $0.pods.count } }
    public var isSynced: Bool { state.withLock { $0.synced } }

    /// A fresh list: replaces everything.
    func replaceAll(_ pods: [WatchedPod]) {
        var entries: [String: Entry] = [:]
        for pod in pods { entries[pod.key] = Entry(uid: pod.uid, encoded: pod.encoded) }
        let woken = state.withLock { state -> [Waiter] in
            state.pods = entries
            state.synced = true
            return Self.takeSatisfied(&state, all: true)
        }
        woken.forEach { $0.continuation.resume() }
    }

    /// One watch event (ADDED, MODIFIED, DELETED).
    func apply(type: String, pod: WatchedPod) {
        let key = pod.key
        let entry = Entry(uid: pod.uid, encoded: pod.encoded)
        let woken = state.withLock { state -> [Waiter] in
            if type == "DELETED" {
                state.pods.removeValue(forKey: key)
            } else {
                state.pods[key] = entry
            }
            return Self.takeSatisfied(&state, all: false)
        }
        woken.forEach { $0.continuation.resume() }
    }

    /// The pod `namespace/name` (with this `uid`, if given), waiting up to `waitMilliseconds` for the
    /// watch to deliver it.
    public func lookup(namespace: String, name: String, uid: String?, waitMilliseconds: Int) async -> Lookup {
        let key = namespace + "/" + name
        if let hit = current(key, uid: uid) { return hit }
        if waitMilliseconds > 0 {
            let id = state.withLock { state -> Int in
                state.nextWaiter += 1
                return state.nextWaiter
            }
            let timer = Task {
                try? await Task.sleep(for: .milliseconds(waitMilliseconds))
                self.wake(id)
            }
            await withCheckedContinuation { continuation in
                let satisfied = state.withLock { state -> Bool in
                    if Self.matches(state.pods[key], uid: uid) { return true }
                    state.waiters[id] = Waiter(key: key, uid: uid, continuation: continuation)
                    return false
                }
                if satisfied { continuation.resume() }
            }
            timer.cancel()
            if let hit = current(key, uid: uid) { return hit }
        }
        return isSynced ? .notFound : .notSynced
    }

    /// The pod if it is cached now (with this `uid`, if given); never waits.
    public func cached(namespace: String, name: String, uid: String?) -> [UInt8]? {
        guard case .found(let pod)? = current(namespace + "/" + name, uid: uid) else { return nil }
        return pod
    }

    private func current(_ key: String, uid: String?) -> Lookup? {
        state.withLock { state in
            guard let entry = state.pods[key], Self.matches(entry, uid: uid) else { return nil }
            return .found(entry.encoded)
        }
    }

    private func wake(_ id: Int) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume()
    }

    private static func matches(_ entry: Entry?, uid: String?) -> Bool {
        guard let entry else { return false }
        return uid == nil || uid == entry.uid
    }

    private static func takeSatisfied(_ state: inout State, all: Bool) -> [Waiter] {
        let ready = state.waiters.filter { all || matches(state.pods[$0.value.key], uid: $0.value.uid) }
        for id in ready.keys { state.waiters.removeValue(forKey: id) }
        return Array(ready.values)
    }
}
