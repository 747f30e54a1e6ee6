import Glibc

/// Facts about a pod's network namespace that shape its rules.
public struct NamespaceFacts: Sendable, Equatable {
    /// The namespace has a global-scope IPv6 address on some interface other than `lo`.
    public let hasGlobalIPv6: Bool

    public init(hasGlobalIPv6: Bool) {
        self.hasGlobalIPv6 = hasGlobalIPv6
    }

    /// Reads the calling thread's namespace: `/proc/thread-self/net` follows the thread, unlike
    /// `/proc/self/net`, which follows the process's main thread.
    static func readCurrentThread() -> NamespaceFacts {
        NamespaceFacts(hasGlobalIPv6: IPv6AddressTable.read("/proc/thread-self/net/if_inet6").contains { $0.isGlobal && $0.interface != "lo" })
    }
}

/// Rows of `/proc/net/if_inet6`: address, ifindex, prefix length, scope, flags, interface name.
struct IPv6AddressTable {
    let interface: String
    let scope: UInt32

    var isGlobal: Bool { scope == 0 }

    static func read(_ path: String) -> [IPv6AddressTable] {
        // An unreadable table means no IPv6 in this namespace (or kernel).
        let content = ProcFile.read(path)
        return String(decoding: content, as: UTF8.self).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, let scope = UInt32(fields[3], radix: 16) else { return nil }
            return IPv6AddressTable(interface: String(fields[5]), scope: scope)
        }
    }
}
