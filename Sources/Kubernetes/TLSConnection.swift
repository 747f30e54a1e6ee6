import CTLSClient

/// One TLS connection to the API server (wolfSSL underneath), bounded by an absolute deadline.
final class TLSConnection: ByteStream {
    private let handle: Int32
    private var buffer = [UInt8](repeating: 0, count: 16 * 1024)

    /// `sessionCachePath` names the file that carries a TLS session from one plugin process to the next.
    init(config: Kubeconfig, sessionCachePath: String?, deadline: MonotonicClock.Instant) throws(KubernetesError) {
        var error = [CChar](repeating: 0, count: 512)
        let authority = config.certificateAuthority ?? []
        let handle = tlsc_open(config.host, config.port, config.tlsServerName, authority, authority.count,
                               config.insecureSkipTLSVerify ? 1 : 0, sessionCachePath, deadline.microseconds, &error, error.count)
        guard handle >= 0 else { throw KubernetesError(handle == -2 ? .tlsUnavailable : .transport, Self.text(error)) }
        self.handle = handle
    }

    /// Whether the handshake resumed an earlier session instead of exchanging certificates.
    var resumed: Bool { tlsc_resumed(handle) != 0 }

    /// 13 (TLS 1.3) or 12 (TLS 1.2).
    var protocolVersion: Int { Int(tlsc_protocol_version(handle)) }

    deinit {
        tlsc_close(handle)
    }

    func write(_ bytes: [UInt8]) throws(KubernetesError) {
        var error = [CChar](repeating: 0, count: 512)
        guard tlsc_write_all(handle, bytes, bytes.count, &error, error.count) == 0 else {
            throw KubernetesError(.transport, Self.text(error))
        }
    }

    /// Returns the next bytes, or an empty array at end of stream.
    func read() throws(KubernetesError) -> [UInt8] {
        var error = [CChar](repeating: 0, count: 512)
        let count = tlsc_read(handle, &buffer, buffer.count, &error, error.count)
        guard count >= 0 else { throw KubernetesError(.transport, Self.text(error)) }
        return Array(buffer[0..<count])
    }

    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// CLOCK_MONOTONIC, the clock the TLS layer's deadlines use (and the benchmark driver reads).
public enum MonotonicClock {
    public struct Instant: Comparable, Sendable {
        public let microseconds: Int64
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.microseconds < rhs.microseconds }
        public func adding(milliseconds delta: Int64) -> Instant { Instant(microseconds: microseconds + delta * 1000) }
        public func milliseconds(since earlier: Instant) -> Int64 { (microseconds - earlier.microseconds) / 1000 }
        public func microseconds(since earlier: Instant) -> Int64 { microseconds - earlier.microseconds }
    }

    public static var now: Instant { Instant(microseconds: tlsc_monotonic_us()) }
}
