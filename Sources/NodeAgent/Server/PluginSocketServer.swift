import CUnixSocketShim
import Foundation
import Glibc
import Kubernetes
import Synchronization

/// The run dir's socket for the plugin, served by one dedicated thread with blocking calls: the plugin
/// waits on these answers while a pod starts, and a thread blocked in poll/accept answers a cached pod
/// in about a fifth of the time an event-loop server takes to wake, accept and schedule (measured in
/// docs/benchmarks.md). Only a pod the cache has not seen yet is answered later, from a task. The
/// socket is created mode 0600 and peers other than root are hung up on (SO_PEERCRED).
final class PluginSocketServer: Sendable {
    let path: String
    private let listener: Int32
    private let wakeup: (read: Int32, write: Int32)
    private let route: AgentRoute
    private let stopped = Mutex(false)

    init(path: String, route: AgentRoute) throws(FileSystemError) {
        self.path = path
        self.route = route
        let fd = cunix_listen(path, 256)
        guard fd >= 0 else { throw FileSystemError(operation: "listen", path: path, errno: -fd) }
        listener = fd
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            close(fd)
            throw FileSystemError(operation: "pipe", path: path, errno: errno)
        }
        wakeup = (fds[0], fds[1])
        let thread = Thread { [self] in serve() }
        thread.name = "plugin-socket"
        thread.start()
    }

    func stop() {
        let first = stopped.withLock { value -> Bool in
            defer { value = true }
            return !value
        }
        if first { _ = Glibc.write(wakeup.write, [UInt8(1)], 1) }
    }

    private func serve() {
        while !stopped.withLock({ $0 }) {
            let connection = cunix_accept(listener, wakeup.read, 1000)
            if connection == -ECANCELED { break }
            guard connection >= 0 else { continue }
            guard cunix_peer_uid(connection) == 0 else {
                cunix_close(connection)
                continue
            }
            handle(connection)
        }
        close(listener)
        unlink(path)
        close(wakeup.read)
        close(wakeup.write)
    }

    private func handle(_ connection: Int32) {
        // The plugin writes its whole request right after connecting; a peer that does not is dropped.
        let deadline = MonotonicClock.now.adding(milliseconds: 500).microseconds
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var request: LocalRequest?
        do throws(LocalRequestError) {
            while request == nil {
                let count = cunix_read(connection, &buffer, buffer.count, deadline)
                guard count > 0 else { throw LocalRequestError("connection ended or timed out") }
                received += buffer[0..<count]
                if received.count > LocalRequest.maximumBytes + 64 * 1024 { throw LocalRequestError("request too large") }
                request = try LocalRequest.parse(received)
            }
        } catch {
            Self.respond(route.refusal(error.description), on: connection)
            return
        }
        guard let request else { return }
        let agentRequest = AgentRequest(method: request.method, path: request.path, query: request.query, body: request.body)
        if let answer = route.immediate(agentRequest) {
            Self.respond(answer, on: connection)
            return
        }
        let route = route
        Task {
            Self.respond(await route.deferred(agentRequest), on: connection)
        }
    }

    private static func respond(_ answer: AgentAnswer, on connection: Int32) {
        let bytes = LocalRequest.response(answer)
        _ = cunix_write_all(connection, bytes, bytes.count, MonotonicClock.now.adding(milliseconds: 1000).microseconds)
        cunix_close(connection)
    }
}

