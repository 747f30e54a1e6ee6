import CNI
import Interception

/// Interception policies that between them use every knob, for tests that push each one through the
/// kernel (nftables oracle, iptables round trip).
public enum PolicyVariety {
    public static let all: [(String, @Sendable (inout InterceptionPolicy) -> Void)] = [
        ("default", { _ in }),
        ("drop-invalid", { $0.dropInvalid = true }),
        ("ports", { $0.inboundPortsInclude = .ports([8080, 9090]); $0.outboundPortsInclude = [7070]; $0.outboundPortsExclude = [5555] }),
        ("ranges", {
            $0.outboundIPRangesInclude = .ranges([IPPrefix("192.0.2.0/24")!, IPPrefix("10.16.0.0/12")!, IPPrefix("2001:db8::/48")!])
            $0.outboundIPRangesExclude = [IPPrefix("198.51.100.7/32")!, IPPrefix("2001:db8:1::/64")!]
        }),
        ("interfaces", { $0.excludeInterfaces = ["eth1", "tun+"]; $0.rerouteInterfaces = ["k6t-eth0"] }),
        ("identity", { $0.proxyUID = 1_000_670_000; $0.proxyGID = 1_000_670_001; $0.ownerGroups = .only([.id(10), .id(20)]) }),
        ("dns", { $0.captureDNS = true }),
        ("tproxy", { $0.mode = .tproxy; $0.dropInvalid = true; $0.excludeInterfaces = ["eth1"] }),
        ("tproxy-ports", { $0.mode = .tproxy; $0.inboundPortsInclude = .ports([8080]); $0.captureDNS = true }),
        // Lists long enough for the nftables backend to fold into sets: overlapping, adjacent and
        // duplicate entries, ranges that start at the first address and run to the last.
        ("long-lists", {
            $0.inboundPortsExclude = (0..<40).map { UInt16(20_000 + 3 * $0) } + [15020, 15021, 15090]
            $0.outboundPortsExclude = (0..<30).map { UInt16(30_000 + $0) } + [0]
            $0.outboundIPRangesExclude = (0..<40).map { IPPrefix("198.18.\($0 / 2).\($0 % 2 == 0 ? 0 : 128)/25")! }
                + ["198.18.3.7/32", "198.18.40.0/22", "198.18.41.0/24", "0.0.0.0/8", "255.255.255.0/24", "2001:db8::/48", "2001:db8:0:1::/64"]
                .map { IPPrefix($0)! }
                + (0..<18).map { IPPrefix("2001:db8:\($0 + 16)::/48")! } + [IPPrefix("ff00::/8")!]
            $0.outboundIPRangesInclude = .ranges((0..<20).map { IPPrefix("203.0.113.\($0 * 4)/30")! })
        }),
    ]
}
