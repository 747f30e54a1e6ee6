import Synchronization

/// What /readyz reports: whether the node is installed, and why not.
public final class AgentStatus: Sendable {
    private struct State {
        var installProblems: [String] = ["the first install pass has not run yet"]
        var podCache = "not started"
        var repair = "off"
    }

    private let state = Mutex(State())
    let metrics: AgentMetrics

    init(metrics: AgentMetrics) {
        self.metrics = metrics
    }

    public var isReady: Bool { state.withLock { $0.installProblems.isEmpty } }

    func setInstallProblems(_ problems: [String]) {
        state.withLock { $0.installProblems = problems }
        metrics.setReady(problems.isEmpty)
    }

    func setPodCache(_ text: String) {
        state.withLock { $0.podCache = text }
    }

    func setRepair(_ text: String) {
        state.withLock { $0.repair = text }
    }

    /// Plain text for /readyz: "ready" or the problems, one per line, and the pod cache's state.
    public var report: String {
        state.withLock { state in
            let install = state.installProblems.isEmpty ? "install: ready" : "install: not ready\n" + state.installProblems.map { "  - \($0)" }.joined(separator: "\n")
            return install + "\npod cache: \(state.podCache)\nrepair: \(state.repair)\n"
        }
    }
}
