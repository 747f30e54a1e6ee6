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
    /// Runs `arguments` (first element resolved through PATH) to completion.
    @discardableResult
    /// A process still running after `timeout` seconds is killed (status -9), so a hang fails the
    /// test instead of stalling the suite.
    public static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil,
                           check: Bool = false, timeout: TimeInterval = 120) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe(), errors = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        try process.run()
        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        DispatchQueue.global().async(group: group) { outData = output.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errData = errors.fileHandleForReading.readDataToEndOfFile() }
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let watchdog = DispatchWorkItem { [process] in if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        process.waitUntilExit()
        watchdog.cancel()
        group.wait()
        let killed = process.terminationReason == .uncaughtSignal
        let result = CommandResult(status: killed ? -process.terminationStatus : process.terminationStatus,
                                   stdout: String(decoding: outData, as: UTF8.self),
                                   stderr: String(decoding: errData, as: UTF8.self))
        if check, !result.succeeded { throw CommandError(command: arguments, result: result) }
        return result
    }

    /// Runs a command and returns its stdout, throwing when it fails.
    @discardableResult
    public static func output(_ arguments: String...) throws -> String {
        try run(arguments, check: true).stdout
    }
}
