import Glibc

/// The plugin's log: one line per event on stderr (stdout carries only the CNI result or error).
public struct PluginLog: Sendable {
    public init() {}

    public func info(_ message: String) {
        emit("info", message)
    }

    public func warning(_ message: String) {
        emit("warn", message)
    }

    private func emit(_ level: String, _ message: String) {
        ProcessIO.write(Array("istio-cni \(level): \(message)\n".utf8), to: 2)
    }
}
