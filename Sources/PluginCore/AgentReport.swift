import JSON
import Kubernetes

/// What one plugin invocation did, sent to the node agent so its log (`kubectl logs`) explains every
/// pod and its metrics count ADD latency. Without an agent the report is dropped: the lines went to
/// stderr already.
public enum AgentReport {
    /// The agent must never slow pod start-up noticeably; past this the report is dropped.
    static let budgetMilliseconds: Int64 = 100

    public static func send(log: PluginLog, command: String, containerID: String?, exitCode: Int32,
                            errorMessage: String?, startedAt: MonotonicClock.Instant) {
        let runDirectory = log.runDirectory ?? PluginSettings.defaultRunDirectory
        let socket = AgentSocket.path(runDirectory: runDirectory)
        let elapsed = MonotonicClock.now.microseconds(since: startedAt)
        let outcome = exitCode == 0 ? (log.recordedOutcome ?? "done") : "failed"
        var report = JSONObject([
            ("command", .string(command)),
            ("pod", log.pod.map(JSONValue.string) ?? .null),
            ("containerID", containerID.map(JSONValue.string) ?? .null),
            ("outcome", .string(outcome)),
            ("durationSeconds", .number(String(Double(elapsed) / 1_000_000))),
            ("entries", .array(log.entries.map { .object(JSONObject([("level", .string($0.level)), ("message", .string($0.message))])) })),
        ])
        if let errorMessage { report["error"] = .string(errorMessage) }
        let body = Array(JSONSerializer.serialize(.object(report)).utf8)
        try? LocalHTTP.post(socket: socket, target: AgentSocket.reportTarget, body: body,
                            deadline: MonotonicClock.now.adding(milliseconds: budgetMilliseconds))
    }
}
