import CSpawnShim
import Foundation
import Glibc

/// A child process the test reaps itself with waitpid (see CSpawnShim for why not Foundation.Process),
/// with its stdout and stderr collected on background threads.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private let output: OutputCollector
    private let errors: OutputCollector
    /// Serialises waitpid; `stateLock` guards `exitStatus` only, so `kill` never waits behind a blocking reap.
    private let reapLock = NSLock()
    private let stateLock = NSLock()
    private var exitStatus: Int32?

    /// `stdin` nil gives the child /dev/null.
    public init(_ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil) throws {
        _ = Self.ignoreBrokenPipes
        let outPipe = try Self.makePipe(), errPipe = try Self.makePipe()
        let inPipe = stdin == nil ? nil : try Self.makePipe()
        let environmentBlock = environment.map { $0.map { "\($0.key)=\($0.value)" } }
        let spawned = cspawn_spawn(Self.block(arguments), Int32(arguments.count),
                                   Self.block(environmentBlock ?? []), Int32(environmentBlock?.count ?? -1),
                                   inPipe?.read ?? -1, outPipe.write, errPipe.write)
        let spawnErrno = errno
        close(outPipe.write)
        close(errPipe.write)
        if let inPipe { close(inPipe.read) }
        guard spawned > 0 else {
            [outPipe.read, errPipe.read].forEach { close($0) }
            if let inPipe { close(inPipe.write) }
            throw CommandError(command: arguments, result: CommandResult(status: -1, stdout: "", stderr: "spawn failed: \(String(cString: strerror(spawnErrno)))"))
        }
        pid = spawned
        output = OutputCollector(descriptor: outPipe.read)
        errors = OutputCollector(descriptor: errPipe.read)
        if let inPipe, let stdin {
            // Written from a thread: a child that does not read its stdin must not block the test.
            let bytes = Array(stdin.utf8)
            Thread.detachNewThread {
                let handle = FileHandle(fileDescriptor: inPipe.write, closeOnDealloc: true)
                try? handle.write(contentsOf: bytes)
                try? handle.close()
            }
        }
    }

    /// Everything the child wrote to stdout so far (all of it once `wait` returned).
    public var stdout: String { output.text }
    var stderr: String { errors.text }

    /// Waits for the child to exit; -N when signal N ended it. Output written by grandchildren that
    /// outlive the child is collected for at most `drain` seconds more.
    @discardableResult
    public func wait(drain: TimeInterval = 5) -> Int32 {
        let status = reap(blocking: true) ?? -1
        output.finish(within: drain)
        errors.finish(within: drain)
        return status
    }

    var isRunning: Bool { reap(blocking: false) == nil }

    /// The exit status once the child is reaped; nil while it runs (only when not blocking).
    private func reap(blocking: Bool) -> Int32? {
        reapLock.lock()
        defer { reapLock.unlock() }
        if let known = recordedStatus { return known }
        var status: Int32 = 0
        var reaped: pid_t
        repeat { reaped = waitpid(pid, &status, blocking ? 0 : WNOHANG) } while reaped < 0 && errno == EINTR
        guard reaped == pid else { return nil }
        let signalled = status & 0x7F
        let result = signalled == 0 ? (status >> 8) & 0xFF : -signalled
        stateLock.lock()
        exitStatus = result
        stateLock.unlock()
        return result
    }

    private var recordedStatus: Int32? {
        stateLock.lock()
        defer { stateLock.unlock() }
        return exitStatus
    }

    public func kill(signal: Int32 = SIGKILL) {
        if recordedStatus == nil { _ = Glibc.kill(pid, signal) }
    }

    /// A child that exits without reading its stdin must fail our write, not kill the test process.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard cspawn_pipe(&fds) == 0 else {
            throw CommandError(command: ["pipe"], result: CommandResult(status: -1, stdout: "", stderr: String(cString: strerror(errno))))
        }
        return (fds[0], fds[1])
    }

    private static func block(_ strings: [String]) -> [CChar] {
        strings.flatMap { $0.utf8CString }
    }
}

/// Reads one pipe to its end on a background thread.
private final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)
    private let handle: FileHandle

    init(descriptor: Int32) {
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock()
                data.append(chunk)
                lock.unlock()
            }
            done.signal()
        }
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }

    /// Waits for the end of the stream; once it has been seen, later calls return at once.
    func finish(within seconds: TimeInterval) {
        if done.wait(timeout: .now() + seconds) == .success { done.signal() }
    }
}
