import CUnixSocketShim
import Glibc

/// A stream connection to a Unix socket (the node agent's), bounded by an absolute deadline.
final class UnixSocketConnection: ByteStream {
    private let descriptor: Int32
    private let deadline: MonotonicClock.Instant
    private var buffer = [UInt8](repeating: 0, count: 16 * 1024)

    init(path: String, deadline: MonotonicClock.Instant) throws(KubernetesError) {
        let remaining = max(1, Int32(clamping: deadline.milliseconds(since: MonotonicClock.now)))
        let result = cunix_connect(path, remaining)
        guard result >= 0 else { throw KubernetesError(.transport, "connect(\(path)): \(Self.describe(-result))") }
        descriptor = result
        self.deadline = deadline
    }

    deinit {
        cunix_close(descriptor)
    }

    func write(_ bytes: [UInt8]) throws(KubernetesError) {
        let result = cunix_write_all(descriptor, bytes, bytes.count, deadline.microseconds)
        guard result >= 0 else { throw KubernetesError(.transport, "write to the node agent: \(Self.describe(Int32(-result)))") }
    }

    func read() throws(KubernetesError) -> [UInt8] {
        let count = cunix_read(descriptor, &buffer, buffer.count, deadline.microseconds)
        guard count >= 0 else { throw KubernetesError(.transport, "read from the node agent: \(Self.describe(Int32(-count)))") }
        return Array(buffer[0..<count])
    }

    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// One HTTP/1.1 exchange with a local service over its Unix socket.
public enum LocalHTTP {
    public struct Answer: Sendable {
        public let status: Int
        public let body: [UInt8]
    }

    public static func exchange(socket path: String, method: String, target: String, body: [UInt8] = [],
                                deadline: MonotonicClock.Instant) throws(KubernetesError) -> Answer {
        try start(socket: path, method: method, target: target, body: body, deadline: deadline).answer()
    }

    /// A request sent whose answer is read later, so the caller can work while the server answers.
    public final class Exchange {
        private let connection: UnixSocketConnection

        fileprivate init(_ connection: UnixSocketConnection) {
            self.connection = connection
        }

        public func answer() throws(KubernetesError) -> Answer {
            let response = try HTTPResponse.read(from: connection)
            return Answer(status: response.status, body: response.body)
        }
    }

    public static func start(socket path: String, method: String, target: String, body: [UInt8] = [],
                             deadline: MonotonicClock.Instant) throws(KubernetesError) -> Exchange {
        Exchange(try send(socket: path, method: method, target: target, body: body, deadline: deadline))
    }

    /// Sends a request and does not wait for the answer (for reports the sender has no use for).
    public static func post(socket path: String, target: String, body: [UInt8], deadline: MonotonicClock.Instant) throws(KubernetesError) {
        _ = try send(socket: path, method: "POST", target: target, body: body, deadline: deadline)
    }

    private static func send(socket path: String, method: String, target: String, body: [UInt8],
                             deadline: MonotonicClock.Instant) throws(KubernetesError) -> UnixSocketConnection {
        let connection = try UnixSocketConnection(path: path, deadline: deadline)
        var request = "\(method) \(target) HTTP/1.1\r\nHost: istio-cni-agent\r\nConnection: close\r\n"
        if !body.isEmpty || method == "POST" {
            request += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        }
        try connection.write(Array((request + "\r\n").utf8) + body)
        return connection
    }
}
