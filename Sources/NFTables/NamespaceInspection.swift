import Glibc

/// Facts about a pod's network namespace that shape its rules.
public struct NamespaceFacts: Sendable, Equatable {
    /// The namespace has a global-scope IPv6 address on some interface other than `lo`.
    public let hasGlobalIPv6: Bool
    /// It has such an IPv6 address and no IPv4 address other than loopback and link-local: the first
    /// address Istio finds is IPv6 (it lists IPv4 addresses first), so this is an IPv6-only pod.
    public let isIPv6Only: Bool

    public init(hasGlobalIPv6: Bool, isIPv6Only: Bool) {
        self.hasGlobalIPv6 = hasGlobalIPv6
        self.isIPv6Only = isIPv6Only && hasGlobalIPv6
    }

    /// Whether the pod gets IPv6 interception, by Istio's rule: with ISTIO_DUAL_STACK when it has any
    /// IPv6 address, otherwise only when it is IPv6-only. Envoy without dual stack listens on IPv4
    /// only, so a dual-stack pod's IPv6 traffic must then be left alone.
    public func ipv6Interception(dualStack: Bool) -> Bool {
        dualStack ? hasGlobalIPv6 : isIPv6Only
    }

    /// Reads the calling thread's namespace: `/proc/thread-self/net` follows the thread, unlike
    /// `/proc/self/net`, which follows the process's main thread. The IPv4 table is only read for pods
    /// with IPv6, so an IPv4 pod's ADD pays for one small read.
    static func readCurrentThread() -> NamespaceFacts {
        let hasIPv6 = IPv6AddressTable.read("/proc/thread-self/net/if_inet6").contains { $0.isGlobal && $0.interface != "lo" }
        guard hasIPv6 else { return NamespaceFacts(hasGlobalIPv6: false, isIPv6Only: false) }
        let ipv4 = NamespaceAddresses.ipv4(String(decoding: ProcFile.read("/proc/thread-self/net/fib_trie"), as: UTF8.self))
        return NamespaceFacts(hasGlobalIPv6: true, isIPv6Only: !ipv4.contains { !$0.isLinkLocal })
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
