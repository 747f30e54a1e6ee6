import CNI
import Glibc

/// The IP addresses assigned inside a network namespace, read from procfs: IPv4 from the local
/// table in `net/fib_trie` (`/32 host LOCAL` leaves), IPv6 from `net/if_inet6`. Reading
/// `/proc/<pid>/net` shows that process's namespace without entering it, which is what lets the
/// repair loop match a pod IP against every namespace on the node cheaply.
public enum NamespaceAddresses {
    /// Addresses in the namespace of the process whose `net` directory this is (`/proc/<pid>/net`).
    public static func read(procNetDirectory: String) -> Set<IPAddress> {
        ipv4(readText(procNetDirectory + "/fib_trie")).union(ipv6(readText(procNetDirectory + "/if_inet6")))
    }

    /// Addresses in `namespace`, read from a thread inside it.
    public static func read(in namespace: NetworkNamespace) throws(NFTablesError) -> Set<IPAddress> {
        try namespace.run { () throws(NFTablesError) in read(procNetDirectory: "/proc/thread-self/net") }
    }

    static func ipv4(_ fibTrie: String) -> Set<IPAddress> {
        var addresses: Set<IPAddress> = []
        var leaf: IPAddress?
        for line in fibTrie.split(separator: "\n") {
            let text = line.drop { $0 == " " }
            if text.hasPrefix("|-- ") {
                leaf = IPAddress(String(text.dropFirst(4)))
            } else if text.hasPrefix("/32 host LOCAL"), let leaf, !leaf.isLoopback {
                addresses.insert(leaf)
            }
        }
        return addresses
    }

    static func ipv6(_ table: String) -> Set<IPAddress> {
        var addresses: Set<IPAddress> = []
        for line in table.split(separator: "\n") {
            guard let hex = line.split(separator: " ").first, hex.count == 32 else { continue }
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                guard let byte = UInt8(hex[index..<next], radix: 16) else { break }
                bytes.append(byte)
                index = next
            }
            if bytes.count == 16 {
                let address = IPAddress.v6(bytes)
                if !address.isLoopback { addresses.insert(address) }
            }
        }
        return addresses
    }

    private static func readText(_ path: String) -> String {
        String(decoding: ProcFile.read(path), as: UTF8.self)
    }
}

/// Reads a procfs file whole (their sizes are unknown until read); a missing file reads as empty.
enum ProcFile {
    static func read(_ path: String) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = Glibc.read(fd, &chunk, chunk.count)
            if count <= 0 { break }
            content += chunk[0..<count]
        }
        return content
    }

    /// Whether a procfs file has any content, with one small read and no allocation (it runs on the
    /// namespace thread, on every ADD's critical path).
    static func hasContent(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var byte: UInt8 = 0
        return Glibc.read(fd, &byte, 1) == 1
    }
}
