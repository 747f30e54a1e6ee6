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
        let report = PluginReport(command: command, outcome: outcome, pod: log.pod, containerID: containerID,
                                  durationSeconds: Double(elapsed) / 1_000_000,
                                  entries: log.entries.map { PluginReport.Entry(level: $0.level, message: $0.message) }, error: errorMessage)
        let body = Array(JSONSerializer.serialize(report.json).utf8)
        try? LocalHTTP.post(socket: socket, target: AgentSocket.reportTarget, body: body,
                            deadline: MonotonicClock.now.adding(milliseconds: budgetMilliseconds))
    }
}
