import Foundation

/// A long-running helper (a netprobe listener inside a namespace), stopped when the test ends.
public final class BackgroundProcess: @unchecked Sendable {
    private let child: ChildProcess

    /// Starts `arguments` and waits until it prints `readyLine` (or fails if it exits first).
    public init(_ arguments: [String], readyLine: String = "ready", timeout: TimeInterval = 10) throws {
        child = try ChildProcess(arguments)
        let deadline = Date().addingTimeInterval(timeout)
        while !child.stdout.contains(readyLine) {
            guard child.isRunning, Date() < deadline else {
                stop()
                throw CommandError(command: arguments, result: CommandResult(status: -1, stdout: child.stdout, stderr: "did not become ready"))
            }
            usleep(10_000)
        }
    }

    public func stop() {
        child.kill()
        child.wait(drain: 1)
    }

    deinit { stop() }
}

extension TestNamespace {
    /// Starts a netprobe listener on `port` inside this namespace answering with `label`.
    public func listen(port: UInt16, label: String, udp: Bool = false, bind address: String? = nil,
                       uid: UInt32? = nil, gid: UInt32? = nil, transparent: Bool = false) throws -> BackgroundProcess {
        var arguments = ["nsenter", "--net=\(path)", "--", Paths.netprobe, "serve", String(port), label]
        if udp { arguments.append("--udp") }
        if transparent { arguments.append("--transparent") }
        if let address { arguments += ["--bind", address] }
        if let uid { arguments += ["--uid", String(uid)] }
        if let gid { arguments += ["--gid", String(gid)] }
        return try BackgroundProcess(arguments)
    }

    /// Connects from this namespace and returns the first line the other side answered, or nil.
    public func connect(_ host: String, _ port: UInt16, uid: UInt32? = nil, gid: UInt32? = nil, udp: Bool = false) throws -> String? {
        var arguments = ["nsenter", "--net=\(path)", "--", Paths.netprobe, "connect", host, String(port), "--timeout", "1500"]
        if let uid { arguments += ["--uid", String(uid)] }
        if let gid { arguments += ["--gid", String(gid)] }
        if udp { arguments.append("--udp") }
        let result = try Command.run(arguments)
        return result.succeeded ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }
}
