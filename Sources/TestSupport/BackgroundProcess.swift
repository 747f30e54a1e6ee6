import Foundation

/// A long-running helper (a netprobe listener inside a namespace), stopped when the test ends.
public final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let output = Pipe()

    /// Starts `arguments` and waits until it prints `readyLine` (or fails if it exits first).
    public init(_ arguments: [String], readyLine: String = "ready", timeout: TimeInterval = 10) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let handle = output.fileHandleForReading
        var seen = ""
        let deadline = Date().addingTimeInterval(timeout)
        while !seen.contains(readyLine) {
            guard process.isRunning, Date() < deadline else {
                stop()
                throw CommandError(command: arguments, result: CommandResult(status: -1, stdout: seen, stderr: "did not become ready"))
            }
            let data = handle.availableData
            if data.isEmpty { usleep(10_000) }
            seen += String(decoding: data, as: UTF8.self)
        }
    }

    /// SIGKILL: children spawned from test threads inherit a signal mask that blocks SIGTERM.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

extension TestNamespace {
    /// Starts a netprobe listener on `port` inside this namespace answering with `label`.
    public func listen(port: UInt16, label: String, udp: Bool = false, bind address: String? = nil,
                       uid: UInt32? = nil, gid: UInt32? = nil) throws -> BackgroundProcess {
        var arguments = ["nsenter", "--net=\(path)", "--", Paths.netprobe, "serve", String(port), label]
        if udp { arguments.append("--udp") }
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
