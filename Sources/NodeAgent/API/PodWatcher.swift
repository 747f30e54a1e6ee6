import Foundation
import JSON
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps its sinks (the pod cache, the repair loop) equal to the API's view of this node's pods: list, then watch from the list's
/// resourceVersion; a watch that ends or breaks resumes from the last resourceVersion seen; 410 Gone
/// (the version was compacted away) means list again. API errors back off exponentially with jitter.
final class PodWatcher: Service {
    let api: KubeAPI
    let sinks: [any PodEventSink]
    let nodeName: String
    let status: AgentStatus
    let logger: Logger
    /// How long the server keeps one watch open.
    let watchSeconds: Int64

    init(api: KubeAPI, sinks: [any PodEventSink], nodeName: String, status: AgentStatus, logger: Logger, watchSeconds: Int64 = 240) {
        self.api = api
        self.sinks = sinks
        self.nodeName = nodeName
        self.status = status
        self.logger = logger
        self.watchSeconds = watchSeconds
    }

    struct Gone: Error {}

    var selector: String { "fieldSelector=" + "spec.nodeName=\(nodeName)".addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._")))! }

    /// The last resourceVersion seen, shared with the watch's event handler.
    final class Position: Sendable {
        private let value = Mutex<String?>(nil)
        var current: String? {
            get { value.withLock { $0 } }
            set { value.withLock { $0 = newValue } }
        }
    }

    func run() async throws {
        let position = Position()
        var backoff = 0.5
        // A watch that ran fine and then broke (an API server restart, a load balancer's idle cut) is
        // resumed at once; only failures in a row back off.
        var failuresInARow = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if position.current == nil {
                    position.current = try await list()
                    // A node's pod list parses into MiBs of short-lived JSON, now freed; hand the heap
                    // back rather than carry it as resident memory until the next list.
                    _ = releaseFreeHeap(0)
                }
                let started = ContinuousClock.now
                let delivered = Position()
                do {
                    try await cancelWhenGracefulShutdown { [self] in
                        try await watch(from: position.current ?? "0") { version in
                            position.current = version
                            delivered.current = version
                        }
                    }
                } catch {
                    if delivered.current != nil || ContinuousClock.now - started > .seconds(5) { failuresInARow = 0 }
                    throw error
                }
                failuresInARow = 0
                backoff = 0.5
            } catch is Gone {
                logger.info("pod cache: resourceVersion \(position.current ?? "?") is too old (410 Gone); listing again")
                position.current = nil
            } catch is CancellationError {
                break
            } catch {
                guard !Task.isShuttingDownGracefully else { break }
                status.setPodCache("reconnecting after: \(error)")
                failuresInARow += 1
                if failuresInARow == 1 {
                    logger.info("pod cache: watch ended (\(error)); resuming from resourceVersion \(position.current ?? "?")")
                    continue
                }
                logger.warning("pod cache: \(error); retrying in \(String(format: "%.1f", backoff)) s")
                let jittered = backoff * Double.random(in: 0.8...1.2)
                try? await Task.sleep(for: .milliseconds(Int(jittered * 1000)))
                backoff = min(backoff * 2, 30)
            }
        }
    }

    /// Lists the node's pods into every sink; returns the list's resourceVersion.
    private func list() async throws -> String? {
        let list = try await api.request(.GET, "/api/v1/pods?\(selector)")
        let items = (list["items"]?.arrayValue ?? []).compactMap(WatchedPod.init)
        for sink in sinks { sink.replaceAll(items) }
        let version = list["metadata"]?["resourceVersion"]?.stringValue
        status.setPodCache("synced (\(items.count) pods on node \(nodeName))")
        logger.info("pod cache: listed \(items.count) pods on node \(nodeName) at resourceVersion \(version ?? "?")")
        return version
    }

    /// One watch request; `advance` is told every resourceVersion passed.
    private func watch(from resourceVersion: String, advance: @Sendable (String) -> Void) async throws {
        let path = "/api/v1/pods?\(selector)&watch=1&allowWatchBookmarks=true&resourceVersion=\(resourceVersion)&timeoutSeconds=\(watchSeconds)"
        try await api.watch(path, timeoutSeconds: watchSeconds) { event in
            guard let type = event["type"]?.stringValue, let object = event["object"] else { return }
            switch type {
            case "ADDED", "MODIFIED", "DELETED":
                if let pod = WatchedPod(object) { for sink in sinks { sink.apply(type: type, pod: pod) } }
            case "BOOKMARK":
                break
            case "ERROR":
                if object["code"]?.int64Value == 410 { throw Gone() }
                throw KubeAPIError(status: object["code"]?.int64Value.map { Int($0) }, message: "watch error: \(object["message"]?.stringValue ?? "?")")
            default:
                return
            }
            if let version = object["metadata"]?["resourceVersion"]?.stringValue { advance(version) }
        }
    }
}

/// glibc's malloc_trim (declared in malloc.h, which the Glibc module does not export).
@_silgen_name("malloc_trim")
private func releaseFreeHeap(_ padding: Int) -> Int32
