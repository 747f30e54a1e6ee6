import JSON
import Logging
import PluginCore

/// What the agent answers on each of its servers.
enum AgentRoutes {
    /// :8000 — `/healthz` while the process runs; `/readyz` only while everything is installed.
    static func health(status: AgentStatus) -> AgentRoute {
        { request in
            switch request.path {
            case "/healthz": AgentAnswer(status: 200, "ok\n")
            case "/readyz": AgentAnswer(status: status.isReady ? 200 : 503, status.report)
            default: AgentAnswer(status: 404, "not found\n")
            }
        }
    }

    /// MONITORING_PORT — Prometheus text exposition.
    static func metrics(_ metrics: AgentMetrics) -> AgentRoute {
        { request in
            guard request.path == "/metrics" else { return AgentAnswer(status: 404, "not found\n") }
            return AgentAnswer(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition())
        }
    }

    /// The run dir's socket — the plugin's pod lookups and its reports.
    static func pluginSocket(cache: PodCache, relay: PluginReportRelay) -> AgentRoute {
        { request in
            if request.method == "GET", request.path.hasPrefix("/v1/pods/") {
                let parts = request.path.dropFirst("/v1/pods/".count).split(separator: "/")
                guard parts.count == 2 else { return AgentAnswer(status: 400, "expected /v1/pods/NAMESPACE/NAME\n") }
                let wait = min(max(Int(request.query["waitMilliseconds"] ?? "") ?? 0, 0), 5000)
                switch await cache.lookup(namespace: String(parts[0]), name: String(parts[1]), uid: request.query["uid"], waitMilliseconds: wait) {
                case .found(let pod):
                    return AgentAnswer(status: 200, contentType: "application/json", body: pod)
                case .notFound:
                    return notFound("the node agent has not seen pod \(parts[0])/\(parts[1])\(request.query["uid"].map { " with uid \($0)" } ?? "")")
                case .notSynced:
                    return AgentAnswer(status: 503, contentType: "application/json",
                                       body: Array(#"{"message":"the node agent's pod cache is not synced yet"}"#.utf8))
                }
            }
            if request.method == "POST", request.path == AgentSocket.reportTarget {
                return relay.accept(request.body) ? AgentAnswer(status: 204, "") : AgentAnswer(status: 400, "not a plugin report\n")
            }
            return AgentAnswer(status: 404, "not found\n")
        }
    }

    private static func notFound(_ message: String) -> AgentAnswer {
        AgentAnswer(status: 404, contentType: "application/json",
                    body: Array(JSONSerializer.serialize(.object(JSONObject([("message", .string(message))]))).utf8))
    }
}

/// Prints what the plugin reports (so `kubectl logs` of the agent explains every pod) and records its
/// duration in the plugin-duration histogram.
struct PluginReportRelay: Sendable {
    let logger: Logger
    let metrics: AgentMetrics

    func accept(_ body: [UInt8]) -> Bool {
        guard let report = try? JSONParser.parse(body), let command = report["command"]?.stringValue,
              let outcome = report["outcome"]?.stringValue else { return false }
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
        return true
    }
}
