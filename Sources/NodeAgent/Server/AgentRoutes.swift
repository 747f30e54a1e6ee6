import JSON
import Logging
import PluginCore

/// What the agent answers on each of its servers.
enum AgentRoutes {
    /// :8000 — `/healthz` while the process runs; `/readyz` only while everything is installed.
    static func health(status: AgentStatus) -> AgentRoute {
        AgentRoute { request in
            switch request.path {
            case "/healthz": AgentAnswer(status: 200, "ok\n")
            case "/readyz": AgentAnswer(status: status.isReady ? 200 : 503, status.report)
            default: AgentAnswer(status: 404, "not found\n")
            }
        }
    }

    /// MONITORING_PORT — Prometheus text exposition.
    static func metrics(_ metrics: AgentMetrics) -> AgentRoute {
        AgentRoute { request in
            guard request.path == "/metrics" else { return AgentAnswer(status: 404, "not found\n") }
            return AgentAnswer(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition())
        }
    }

    /// The run dir's socket — the plugin's pod lookups and its reports. A cached pod and a report are
    /// answered on the event loop; only a pod the cache has not seen yet waits, as a task.
    static func pluginSocket(cache: PodCache, relay: PluginReportRelay) -> AgentRoute {
        let metrics = relay.metrics
        return AgentRoute(immediate: { request in
            if request.method == "GET", let (namespace, name) = podKey(request.path) {
                if let pod = cache.cached(namespace: namespace, name: name, uid: request.query["uid"]) {
                    return AgentAnswer(status: 200, contentType: "application/json", body: pod)
                }
                return nil
            }
            if request.method == "POST", request.path == AgentSocket.reportTarget {
                return relay.enqueue(request.body) ? AgentAnswer(status: 204, "") : AgentAnswer(status: 400, "not a plugin report\n")
            }
            if request.method == "GET", request.path.hasPrefix("/v1/pods/") { return AgentAnswer(status: 400, "expected /v1/pods/NAMESPACE/NAME\n") }
            return AgentAnswer(status: 404, "not found\n")
        }, deferred: { request in
            guard let (namespace, name) = podKey(request.path) else { return AgentAnswer(status: 404, "not found\n") }
            let wait = min(max(Int(request.query["waitMilliseconds"] ?? "") ?? 0, 0), 5000)
            switch await cache.lookup(namespace: namespace, name: name, uid: request.query["uid"], waitMilliseconds: wait) {
            case .found(let pod):
                return AgentAnswer(status: 200, contentType: "application/json", body: pod)
            case .notFound:
                return notFound("the node agent has not seen pod \(namespace)/\(name)\(request.query["uid"].map { " with uid \($0)" } ?? "")")
            case .notSynced:
                return AgentAnswer(status: 503, contentType: "application/json",
                                   body: Array(#"{"message":"the node agent's pod cache is not synced yet"}"#.utf8))
            }
        }).observing { metrics.countPluginRequest(status: $0) }
    }

    private static func podKey(_ path: String) -> (String, String)? {
        guard path.hasPrefix("/v1/pods/") else { return nil }
        let parts = path.dropFirst("/v1/pods/".count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    private static func notFound(_ message: String) -> AgentAnswer {
        AgentAnswer(status: 404, contentType: "application/json",
                    body: Array(JSONSerializer.serialize(.object(JSONObject([("message", .string(message))]))).utf8))
    }
}

/// Prints what the plugin reports (so `kubectl logs` of the agent explains every pod) and records its
/// duration in the plugin-duration histogram. Reports are taken in on the event loop and printed in
/// arrival order by one task, so logging never delays the plugin.
final class PluginReportRelay: Sendable {
    let logger: Logger
    let metrics: AgentMetrics
    private let queue: AsyncStream<JSONValue>.Continuation

    init(logger: Logger, metrics: AgentMetrics) {
        self.logger = logger
        self.metrics = metrics
        let (reports, queue) = AsyncStream.makeStream(of: JSONValue.self, bufferingPolicy: .bufferingNewest(4096))
        self.queue = queue
        Task { [logger, metrics] in
            for await report in reports { Self.print(report, logger: logger, metrics: metrics) }
        }
    }

    deinit {
        queue.finish()
    }

    /// False when the body is not a report.
    func enqueue(_ body: [UInt8]) -> Bool {
        guard let report = try? JSONParser.parse(body), report["command"]?.stringValue != nil, report["outcome"]?.stringValue != nil else {
            return false
        }
        queue.yield(report)
        return true
    }

    private static func print(_ report: JSONValue, logger: Logger, metrics: AgentMetrics) {
        guard let command = report["command"]?.stringValue, let outcome = report["outcome"]?.stringValue else { return }
        var metadata: Logger.Metadata = ["source": "plugin", "command": .string(command), "outcome": .string(outcome)]
        if let pod = report["pod"]?.stringValue { metadata["pod"] = .string(pod) }
        if let container = report["containerID"]?.stringValue { metadata["container"] = .string(String(container.prefix(12))) }
        if let seconds = report["durationSeconds"]?.doubleValue {
            metadata["duration_ms"] = .string(String(Int((seconds * 1000).rounded())))
            metrics.observePlugin(command: command, outcome: outcome, seconds: seconds)
        }
        for entry in report["entries"]?.arrayValue ?? [] {
            guard let message = entry["message"]?.stringValue else { continue }
            switch entry["level"]?.stringValue {
            case "warn": logger.warning("plugin: \(message)", metadata: metadata)
            case "error": logger.error("plugin: \(message)", metadata: metadata)
            default: logger.info("plugin: \(message)", metadata: metadata)
            }
        }
        if let error = report["error"]?.stringValue { logger.error("plugin: \(command) failed: \(error)", metadata: metadata) }
    }
}
