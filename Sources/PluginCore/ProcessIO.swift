import CNI
import Glibc

/// The plugin process's stdin, stdout and environment, without Foundation.
public enum ProcessIO {
    /// Variables the plugin reads: the CNI protocol's and Istio's node-wide knobs.
    public static let environmentNames = [
        "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH",
        "ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR", "ISTIO_OUTBOUND_OWNER_GROUPS", "ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE",
        "FORCE_IPTABLES_BINARY", "PATH",
    ]

    public static func environment() -> [String: String] {
        var values: [String: String] = [:]
        for name in environmentNames {
            if let value = getenv(name) { values[name] = String(cString: value) }
        }
        return values
    }

    public static let maximumStdinBytes = 16 * 1024 * 1024

    public static func readStandardInput() throws(CNIError) -> [UInt8] {
        guard let content = readAll(0, limit: maximumStdinBytes) else {
            if errno == EFBIG { throw CNIError(.ioFailure, "network configuration on stdin is larger than \(maximumStdinBytes) bytes") }
            throw CNIError(.ioFailure, "reading the network configuration from stdin failed", details: String(cString: strerror(errno)))
        }
        return content
    }

    /// A small file's bytes, or nil when it cannot be read.
    static func readFile(_ path: String, limit: Int = 1024 * 1024) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readAll(fd, limit: limit)
    }

    /// Everything up to end of file; nil with errno set on a read error, or EFBIG past `limit`.
    private static func readAll(_ fd: Int32, limit: Int) -> [UInt8]? {
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { return content }
            content += chunk[0..<count]
            if content.count > limit {
                errno = EFBIG
                return nil
            }
        }
    }

    public static func write(_ bytes: [UInt8], to descriptor: Int32) {
        var offset = 0
        while offset < bytes.count {
            let result = Glibc.write(descriptor, Array(bytes[offset...]), bytes.count - offset)
            if result < 0, errno == EINTR { continue }
            if result <= 0 { return }
            offset += result
        }
    }
}
