import Kubernetes
import Logging
import PluginCore

/// Prints what the plugin reports (so `kubectl logs` of the agent explains every pod) and records its
/// duration in the plugin-duration histogram. Reports are checked and taken in on the serving thread,
/// and printed in arrival order by one task, so logging never delays the plugin.
final class PluginReportRelay: Sendable {
    let logger: Logger
    let metrics: AgentMetrics
    private let queue: AsyncStream<PluginReport>.Continuation

    init(logger: Logger, metrics: AgentMetrics) {
        self.logger = logger
        self.metrics = metrics
        let (reports, queue) = AsyncStream.makeStream(of: PluginReport.self, bufferingPolicy: .bufferingNewest(4096))
        self.queue = queue
        Task { [logger, metrics] in
            for await report in reports { Self.print(report, logger: logger, metrics: metrics) }
        }
    }

    deinit {
        queue.finish()
    }

    /// Queues a valid report; a body that is not one changes nothing and says why.
    func enqueue(_ body: [UInt8]) throws(PluginReportError) {
        queue.yield(try PluginReport.parse(body))
    }

    private static func print(_ report: PluginReport, logger: Logger, metrics: AgentMetrics) {
        var metadata: Logger.Metadata = ["source": "plugin", "command": .string(report.command), "outcome": .string(PeerText.escaped(report.outcome))]
        if let pod = report.pod { metadata["pod"] = .string(PeerText.escaped(pod)) }
        if let container = report.containerID { metadata["container"] = .string(PeerText.escaped(String(container.prefix(12)))) }
        if let seconds = report.durationSeconds {
            metadata["duration_ms"] = .string(String(Int((seconds * 1000).rounded())))
            metrics.observePlugin(command: report.command, outcome: report.outcome, seconds: seconds)
        }
        for entry in report.entries {
            let message = PeerText.escaped(entry.message)
            switch entry.level {
            case "warn": logger.warning("plugin: \(message)", metadata: metadata)
            case "error": logger.error("plugin: \(message)", metadata: metadata)
            default: logger.info("plugin: \(message)", metadata: metadata)
            }
        }
        if let error = report.error { logger.error("plugin: \(report.command) failed: \(PeerText.escaped(error))", metadata: metadata) }
    }
}
