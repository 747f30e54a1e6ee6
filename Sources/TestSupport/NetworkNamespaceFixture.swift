import Foundation

/// A named network namespace created with `ip netns add` for one test and deleted afterwards, so
/// nothing the test does can reach the host's own netns.
public final class TestNamespace: @unchecked Sendable {
    public static let namePrefix = "icni-t-"

    public let name: String
    public var path: String { "/run/netns/\(name)" }
    private var deleted = false

    public init(_ label: String = "ns") throws {
        name = Self.namePrefix + label.prefix(6) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        try Command.run(["ip", "netns", "add", name], check: true)
        try Command.run(["ip", "-n", name, "link", "set", "lo", "up"], check: true)
    }

    /// Runs a command inside the namespace (mounts untouched, unlike `ip netns exec`).
    @discardableResult
    public func run(_ arguments: [String], stdin: String? = nil, check: Bool = true) throws -> CommandResult {
        try Command.run(["nsenter", "--net=\(path)", "--"] + arguments, stdin: stdin, check: check)
    }

    /// `nft -j list ruleset` parsed down to (table, chain) → rule count, plus the raw text listing.
    public func nftListing() throws -> String {
        try run(["nft", "list", "ruleset"]).stdout
    }

    public func delete() {
        guard !deleted else { return }
        deleted = true
        _ = try? Command.run(["ip", "netns", "del", name])
    }

    deinit { delete() }
}

/// A pod namespace wired to a peer namespace by a veth pair, each end with documentation addresses:
/// pod 203.0.113.2/24 (and 198.51.100.2/24), peer 203.0.113.10/24 (and 198.51.100.10/24); with
/// `ipv6`, pod 2001:db8:cafe::2/64 and peer 2001:db8:cafe::10/64 (the IPv6 documentation prefix);
/// with `ipv4` false, only those (an IPv6-only pod).
public final class PodNetwork: @unchecked Sendable {
    public static let podAddress = "203.0.113.2"
    public static let peerAddress = "203.0.113.10"
    public static let secondPodAddress = "198.51.100.2"
    public static let secondPeerAddress = "198.51.100.10"
    public static let podAddressV6 = "2001:db8:cafe::2"
    public static let peerAddressV6 = "2001:db8:cafe::10"

    public let pod: TestNamespace
    public let peer: TestNamespace

    public init(ipv6: Bool = false, ipv4: Bool = true) throws {
        pod = try TestNamespace("pod")
        peer = try TestNamespace("peer")
        try Command.run(["ip", "-n", pod.name, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0", "netns", peer.name], check: true)
        for (ns, device, addresses) in [(pod, "eth0", [Self.podAddress, Self.secondPodAddress]),
                                        (peer, "peer0", [Self.peerAddress, Self.secondPeerAddress])] {
            for address in ipv4 ? addresses : [] {
                try Command.run(["ip", "-n", ns.name, "addr", "add", "\(address)/24", "dev", device], check: true)
            }
            if ipv6 {
                let v6 = ns === pod ? Self.podAddressV6 : Self.peerAddressV6
                try Command.run(["ip", "-n", ns.name, "addr", "add", "\(v6)/64", "dev", device, "nodad"], check: true)
            }
            try Command.run(["ip", "-n", ns.name, "link", "set", device, "up"], check: true)
        }
    }

    public func delete() {
        pod.delete()
        peer.delete()
    }

    deinit { delete() }
}
