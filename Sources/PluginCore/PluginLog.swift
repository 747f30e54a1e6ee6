import Glibc
import Synchronization

/// The plugin's log: every line goes to stderr at once (stdout carries only the CNI result or error)
/// and is kept for the report the plugin sends the node agent when it is done (`AgentReport`).
public final class PluginLog: Sendable {
    public struct Entry: Sendable, Equatable {
        public let level: String
        public let message: String
    }

    private struct State {
        var entries: [Entry] = []
        var runDirectory: String?
        var pod: String?
        var outcome: String?
    }

    private let state = Mutex(State())

    public init() {}

    public func info(_ message: String) {
        emit("info", message)
    }

    public func warning(_ message: String) {
        emit("warn", message)
    }

    public func error(_ message: String) {
        emit("error", message)
    }

    /// Where the node agent's socket is, once the configuration named the run directory.
    func use(runDirectory: String) {
        state.withLock { $0.runDirectory = runDirectory }
    }

    /// The pod this invocation is about ("namespace/name"), for the agent's structured log.
    func about(pod: String) {
        state.withLock { $0.pod = pod }
    }

    /// What the invocation did, in a word or two ("rules applied", "skipped: …"); the last call wins.
    func outcome(_ text: String) {
        state.withLock { $0.outcome = text }
    }

    public var entries: [Entry] { state.withLock { $0.entries } }
    public var runDirectory: String? { state.withLock { $0.runDirectory } }
    public var pod: String? { state.withLock { $0.pod } }
    public var recordedOutcome: String? { state.withLock { $0.outcome } }

    private func emit(_ level: String, _ message: String) {
        state.withLock { $0.entries.append(Entry(level: level, message: message)) }
        ProcessIO.write(Array("istio-cni \(level): \(message)\n".utf8), to: 2)
    }
}
