import CNI
import Interception
import Testing

/// Structure of the generated rules beyond the iptables goldens: family merging for inet tables,
/// insert positions, and what each optional feature adds.
@Suite struct RuleSetTests {
    func rules(_ configure: (inout InterceptionPolicy) -> Void = { _ in }, ipv6: Bool = false) throws -> RuleSet {
        var policy = InterceptionPolicy()
        configure(&policy)
        return RedirectPlan(policy).rules(ipv6: ipv6)
    }

    @Test func defaultUsesOnlyTheNatTable() throws {
        let set = try rules()
        #expect(set.tables == [.nat])
        #expect(set.chains(in: .nat) == [.istioInbound, .istioRedirect, .istioInRedirect, .prerouting, .output, .istioOutput])
        #expect(set.mergedRuleCount == 20)
    }

    @Test func ipv6AddsOnlyTheAddressSpecificRules() throws {
        let v4 = try rules().mergedRules(.nat, .istioOutput)
        let dual = try rules(ipv6: true).mergedRules(.nat, .istioOutput)
        #expect(dual.count == v4.count + 4, "::6 source, the uid and gid lo redirects for ::1, and the ::1 return")
        // Each family sees exactly the sequence its own ip(6)tables chain would hold.
        let set = try rules(ipv6: true)
        for family in [AddressFamily.ipv4, .ipv6] {
            let own = set.operations(for: family).filter { $0.table == .nat && $0.chain == .istioOutput }.map(\.rule)
            #expect(dual.filter { $0.family == nil || $0.family == family } == own)
        }
        #expect(dual.last == Rule([], .jump(.istioRedirect)), "the catch-all is shared by both families")
    }

    @Test func featuresAddTheirTables() throws {
        #expect(try rules { $0.captureDNS = true }.tables == [.nat, .raw])
        #expect(try rules { $0.dropInvalid = true }.tables == [.mangle, .nat])
        let dns = try rules { $0.captureDNS = true }
        #expect(dns.mergedRules(.nat, .istioOutputDNS).map(\.action) == [.redirect(toPort: 15053), .redirect(toPort: 15053)])
        #expect(dns.mergedRules(.raw, .istioInbound) == [Rule([.transportProtocol(.udp), .sourcePort(53)], .setConntrackZone(1))])
    }

    @Test func rerouteInterfacesAreInsertedAheadOfTheirReturn() throws {
        let prerouting = try rules { $0.rerouteInterfaces = ["k6t-eth0"]; $0.excludeInterfaces = ["eth1"] }.mergedRules(.nat, .prerouting)
        #expect(prerouting == [
            Rule([.inputInterface("k6t-eth0")], .jump(.istioRedirect)),
            Rule([.inputInterface("k6t-eth0")], .returnFromChain),
            Rule([.inputInterface("eth1")], .returnFromChain),
            Rule([.transportProtocol(.tcp)], .jump(.istioInbound)),
        ])
    }

    @Test func includedRangesReplaceTheCatchAll() throws {
        let output = try rules { $0.outboundIPRangesInclude = .ranges([IPPrefix("192.0.2.0/24")!]) }.mergedRules(.nat, .istioOutput)
        #expect(output.last == Rule([.destinationAddress(IPPrefix("192.0.2.0/24")!, negated: false)], .jump(.istioRedirect)))
        #expect(!output.contains(Rule([], .jump(.istioRedirect))))
        let none = try rules { $0.inboundPortsInclude = .ports([]) }
        #expect(!none.chains(in: .nat).contains(.prerouting), "no inbound capture at all")
    }

    @Test func ownerGroupFilters() throws {
        #expect(try rules { $0.ownerGroups = .only([.id(10), .id(20)]) }.mergedRules(.nat, .istioOutput)
            .contains(Rule([.socketGID(10, negated: true), .socketGID(20, negated: true)], .returnFromChain)))
        #expect(try rules { $0.ownerGroups = .allExcept([.id(30)]) }.mergedRules(.nat, .istioOutput)
            .contains(Rule([.socketGID(30, negated: false)], .returnFromChain)))
        let named = try rules { $0.ownerGroups = .only([.name("java"), .id(202)]) }
        #expect(named.mergedRules(.nat, .istioOutput).contains(Rule([.socketGroupName("java", negated: true), .socketGID(202, negated: true)], .returnFromChain)))
        #expect(named.unresolvedGroupName == "java")
        #expect(try rules().unresolvedGroupName == nil)
    }

    @Test func transparentProxyHonoursTheLoopbackCIDR() throws {
        let loopback = IPPrefix("127.0.0.0/8")!
        let set = try rules { $0.mode = .tproxy; $0.hostIPv4LoopbackCIDR = loopback }
        #expect(set.mergedRules(.mangle, .istioTransparentProxy)
            == [Rule([.destinationAddress(loopback, negated: true), .transportProtocol(.tcp)], .transparentProxy(toPort: 15006, mark: 1337))])
        let marks = set.mergedRules(.mangle, .output).filter { $0.action == .setPacketMark(1338) }
        #expect(marks.count == 2 && marks.allSatisfy { $0.matches.first == .destinationAddress(loopback, negated: true) })
        #expect(!set.operations.contains { $0.rule.matches.contains(.destinationAddress(IPPrefix("127.0.0.1/32")!, negated: true)) })
    }

    @Test func transparentProxyCapturesInboundInMangleAndNeedsItsRoute() throws {
        let set = try rules { $0.mode = .tproxy }
        #expect(set.tables == [.mangle, .nat])
        #expect(set.chains(in: .mangle) == [.istioDivert, .istioTransparentProxy, .prerouting, .istioInbound, .output])
        #expect(!set.mergedRules(.nat, .prerouting).contains { $0.jumpTarget == .istioInbound }, "nat leaves inbound alone")
        #expect(set.transparentProxyRoute == TransparentProxyRoute(mark: 1337, table: 133))
        #expect(set.mergedRules(.mangle, .istioTransparentProxy)
            == [Rule([.destinationAddress(IPPrefix("127.0.0.1/32")!, negated: true), .transportProtocol(.tcp)], .transparentProxy(toPort: 15006, mark: 1337))])
        #expect(try rules().transparentProxyRoute == nil)
    }

    @Test func transparentProxyWithoutInboundPortsNeedsNoRoute() throws {
        let set = try rules { $0.mode = .tproxy; $0.inboundPortsInclude = .ports([]) }
        #expect(set.transparentProxyRoute == nil)
        #expect(!set.chains(in: .mangle).contains(.istioTransparentProxy))
    }

    @Test func transparentProxyOnListedPortsDivertsEachPort() throws {
        let set = try rules { $0.mode = .tproxy; $0.inboundPortsInclude = .ports([8080]) }
        let inbound = set.mergedRules(.mangle, .istioInbound)
        #expect(inbound.suffix(2) == [
            Rule([.transportProtocol(.tcp), .destinationPort(8080, negated: false), .conntrackState([.related, .established])], .jump(.istioDivert)),
            Rule([.transportProtocol(.tcp), .destinationPort(8080, negated: false)], .jump(.istioTransparentProxy)),
        ])
        #expect(inbound.prefix(3).allSatisfy { $0.action == .returnFromChain }, "the three inserted RETURN rules come first")
    }

    @Test func excludedInterfacesAreSkippedInMangleToo() throws {
        let set = try rules { $0.mode = .tproxy; $0.excludeInterfaces = ["eth1"] }
        #expect(set.mergedRules(.mangle, .prerouting).first == Rule([.inputInterface("eth1")], .returnFromChain))
        #expect(set.mergedRules(.mangle, .output).first == Rule([.outputInterface("eth1")], .returnFromChain))
    }
}
