import Foundation

/// Runs real programs for tests (ip, nft, iptables, the built plugin) and captures their output.
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    public var succeeded: Bool { status == 0 }
}

public struct CommandError: Error, CustomStringConvertible {
    public let command: [String]
    public let result: CommandResult

    public var description: String {
        "`\(command.joined(separator: " "))` exited \(result.status): \(result.stderr)\(result.stdout)"
    }
}

public enum Command {
    /// Runs `arguments` (first element resolved through PATH) to completion. A process still running
    /// after `timeout` seconds is killed (status -9), so a hang fails the test instead of stalling the suite.
    @discardableResult
    public static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil,
                           check: Bool = false, timeout: TimeInterval = 120) throws -> CommandResult {
        let child = try ChildProcess(arguments, environment: environment, stdin: stdin ?? "")
        let watchdog = DispatchWorkItem { child.kill() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        let status = child.wait()
        watchdog.cancel()
        let result = CommandResult(status: status, stdout: child.stdout, stderr: child.stderr)
        if check, !result.succeeded { throw CommandError(command: arguments, result: result) }
        return result
    }

    /// Runs a command and returns its stdout, throwing when it fails.
    @discardableResult
    public static func output(_ arguments: String...) throws -> String {
        try run(arguments, check: true).stdout
    }
}
