import CNI
import Foundation
import Interception
import IPTables
import Testing
import TestSupport

/// The iptables-restore input matches what Istio's plugin produces for the same pod (reference §2.3).
@Suite struct RestoreRenderingTests {
    static let defaultRules = fixture("default-redirect.iptables")
    static let tproxyRules = fixture("tproxy.iptables")
    static let dnsRules = fixture("dns-capture.iptables")

    static func fixture(_ name: String) -> String {
        try! String(contentsOf: Paths.packageRoot.appendingPathComponent("Tests/Fixtures/\(name)"), encoding: .utf8)
    }

    func render(_ configure: (inout InterceptionPolicy) -> Void = { _ in }, family: AddressFamily = .ipv4, ipv6: Bool = false) throws -> String {
        var policy = InterceptionPolicy()
        configure(&policy)
        return IPTablesRestoreRenderer.render(RedirectPlan(policy).rules(ipv6: ipv6), family: family)
    }

    @Test func defaultPod() throws {
        #expect(try render() == Self.defaultRules)
    }

    @Test func customProxyIdentity() throws {
        let expected = Self.defaultRules.replacingOccurrences(of: "-owner 1337", with: "-owner 1000670000")
            .replacingOccurrences(of: "--gid-owner 1000670000", with: "--gid-owner 1000670001")
        #expect(try render { $0.proxyUID = 1_000_670_000; $0.proxyGID = 1_000_670_001 } == expected)
    }

    @Test func invalidDrop() throws {
        let mangle = "* mangle\n-N ISTIO_DROP\n-A PREROUTING -m conntrack --ctstate INVALID -j ISTIO_DROP\n-A ISTIO_DROP -j DROP\nCOMMIT\n"
        #expect(try render { $0.dropInvalid = true } == mangle + Self.defaultRules)
    }

    @Test func includeExcludePorts() throws {
        let expected = Self.defaultRules
            .replacingOccurrences(of: """
            -A ISTIO_INBOUND -p tcp --dport 15020 -j RETURN
            -A ISTIO_INBOUND -p tcp --dport 15021 -j RETURN
            -A ISTIO_INBOUND -p tcp --dport 15090 -j RETURN
            -A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT
            """, with: """
            -A ISTIO_INBOUND -p tcp --dport 1111 -j ISTIO_IN_REDIRECT
            -A ISTIO_INBOUND -p tcp --dport 2222 -j ISTIO_IN_REDIRECT
            """)
            .replacingOccurrences(of: """
            -A ISTIO_OUTPUT -p tcp --dport 15020 -j RETURN
            -A ISTIO_OUTPUT -p udp --dport 15020 -j RETURN
            """, with: """
            -A ISTIO_OUTPUT -p tcp --dport 5555 -j RETURN
            -A ISTIO_OUTPUT -p udp --dport 5555 -j RETURN
            -A ISTIO_OUTPUT -p tcp --dport 6666 -j RETURN
            -A ISTIO_OUTPUT -p udp --dport 6666 -j RETURN
            """)
        #expect(try render {
            $0.inboundPortsInclude = .ports([1111, 2222])
            $0.inboundPortsExclude = [3333, 4444, 15020, 15021, 15090]
            $0.outboundPortsExclude = [5555, 6666]
        } == expected)
    }

    @Test func includeExcludeRanges() throws {
        let expected = Self.defaultRules
            .replacingOccurrences(of: "-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN\n", with: "")
            .replacingOccurrences(of: "-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner 1337 -j RETURN\n", with: "")
            .replacingOccurrences(of: "-A ISTIO_OUTPUT -j ISTIO_REDIRECT\n",
                                  with: "-A ISTIO_OUTPUT -d 10.0.0.0/8 -j RETURN\n-A ISTIO_OUTPUT -d 127.0.0.0/8 -j ISTIO_REDIRECT\n")
        #expect(try render {
            $0.outboundIPRangesInclude = .ranges([IPPrefix("127.0.0.0/8")!])
            $0.outboundIPRangesExclude = [IPPrefix("10.0.0.0/8")!]
        } == expected)
    }

    @Test func transparentProxy() throws {
        #expect(try render { $0.mode = .tproxy } == Self.tproxyRules)
    }

    @Test func transparentProxyWithCustomProxyIdentity() throws {
        let expected = Self.tproxyRules.replacingOccurrences(of: "-owner 1337", with: "-owner 1000670000")
            .replacingOccurrences(of: "--gid-owner 1000670000", with: "--gid-owner 1000670001")
        #expect(try render { $0.mode = .tproxy; $0.proxyUID = 1_000_670_000; $0.proxyGID = 1_000_670_001 } == expected)
    }

    @Test func transparentProxyIPv6() throws {
        let expected = Self.tproxyRules.replacingOccurrences(of: "127.0.0.6/32", with: "::6/128")
            .replacingOccurrences(of: "127.0.0.1/32", with: "::1/128")
        #expect(try render({ $0.mode = .tproxy }, family: .ipv6, ipv6: true) == expected)
    }

    /// Istio spells the UDP DNS redirect `--to-port`, an abbreviation iptables reads as `--to-ports`;
    /// we write `--to-ports` everywhere.
    @Test func dnsCapture() throws {
        let expected = Self.dnsRules.replacingOccurrences(of: "--to-port 15053", with: "--to-ports 15053")
        #expect(try render { $0.captureDNS = true } == expected)
    }

    @Test func ipv6RestoreUsesIPv6Addresses() throws {
        let expected = Self.defaultRules.replacingOccurrences(of: "127.0.0.6/32", with: "::6/128")
            .replacingOccurrences(of: "127.0.0.1/32", with: "::1/128")
        #expect(try render(family: .ipv6, ipv6: true) == expected)
        #expect(try render(ipv6: true) == Self.defaultRules, "the IPv4 file is unchanged when IPv6 is added")
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        components(separatedBy: target).joined(separator: replacement)
    }
}
