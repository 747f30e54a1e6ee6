import CNI

/// The rules of Istio's sidecar capture (istio-iptables' `Run`, reference §2.2) for a policy, built
/// step for step and in the same order, so every backend reproduces Istio's behaviour exactly.
public struct RedirectPlan: Equatable, Sendable {
    static let inboundPassthroughSourceV4 = IPPrefix(address: .v4([127, 0, 0, 6]), length: 32)
    static let inboundPassthroughSourceV6 = IPPrefix(address: .v6([UInt8](repeating: 0, count: 15) + [6]), length: 128)
    static let loopbackV6 = IPPrefix(address: .v6([UInt8](repeating: 0, count: 15) + [1]), length: 128)
    static let dnsPort: UInt16 = 53

    public let policy: InterceptionPolicy

    public init(_ policy: InterceptionPolicy) {
        self.policy = policy
    }

    /// The rules for a pod netns; `ipv6` adds the IPv6 rules (the netns has a global IPv6 address).
    public func rules(ipv6: Bool) -> RuleSet {
        var set = RuleSet(ipv6: ipv6)
        let loopbackV4 = policy.hostIPv4LoopbackCIDR
        let tproxy = policy.mode == .tproxy

        for table in tproxy ? [RuleTable.nat, .mangle] : [.nat] {
            for interface in policy.excludeInterfaces {
                set.append(table, .prerouting, [.inputInterface(interface)], .returnFromChain)
                set.append(table, .output, [.outputInterface(interface)], .returnFromChain)
            }
        }
        for interface in policy.rerouteInterfaces {
            set.insert(.nat, .prerouting, at: 1, [.inputInterface(interface)], .returnFromChain)
        }
        if policy.dropInvalid {
            set.append(.mangle, .prerouting, [.conntrackState([.invalid])], .jump(.istioDrop))
            set.append(.mangle, .istioDrop, [], .drop)
        }

        set.append(.nat, .istioInbound, [.transportProtocol(.tcp), .destinationPort(policy.inboundTunnelPort, negated: false)], .returnFromChain)
        set.append(.nat, .istioRedirect, [.transportProtocol(.tcp)], .redirect(toPort: policy.proxyPort))
        set.append(.nat, .istioInRedirect, [.transportProtocol(.tcp)], .redirect(toPort: policy.inboundCapturePort))

        if tproxy {
            Self.appendTransparentInboundCapture(to: &set, policy: policy)
        } else {
            Self.appendRedirectInboundCapture(to: &set, policy: policy)
        }

        set.append(.nat, .output, [], .jump(.istioOutput))
        set.appendEach(.nat, .istioOutput, .ports(policy.outboundPortsExclude), [
            Self.portTemplate(.tcp, .returnFromChain), Self.portTemplate(.udp, .returnFromChain),
        ])
        set.appendVersioned(.nat, .istioOutput, .returnFromChain, { [.outputInterface("lo"), .sourceAddress($0, negated: false)] },
                        v4: Self.inboundPassthroughSourceV4, v6: Self.inboundPassthroughSourceV6)

        let loopbackIncluded = policy.outboundIPRangesInclude.includesLoopback
        let dns = policy.captureDNS
        let tunnel = policy.inboundTunnelPort
        // Traffic the proxy sends to the pod's own address over lo goes back in through inbound capture;
        // other lo traffic and everything the proxy sends elsewhere is left alone.
        let ownerRules: [(UInt32, (UInt32, Bool) -> Match, Bool)] = [
            (policy.proxyUID, { .socketUID($0, negated: $1) }, true),
            (policy.proxyGID, { .socketGID($0, negated: $1) }, false),
        ]
        for (id, owner, isUID) in ownerRules {
            let portMatch: Match = dns && isUID ? .destinationPortNotIn([Self.dnsPort, tunnel]) : .destinationPort(tunnel, negated: true)
            set.appendVersioned(.nat, .istioOutput, .jump(.istioInRedirect), {
                [.outputInterface("lo"), .destinationAddress($0, negated: true), .transportProtocol(.tcp), portMatch, owner(id, false)]
            }, v4: loopbackV4, v6: Self.loopbackV6)
            if !loopbackIncluded {
                if dns {
                    set.append(.nat, .istioOutput, [.outputInterface("lo"), .transportProtocol(.tcp), .destinationPort(Self.dnsPort, negated: true), owner(id, true)], .returnFromChain)
                } else {
                    set.append(.nat, .istioOutput, [.outputInterface("lo"), owner(id, true)], .returnFromChain)
                }
            }
            set.append(.nat, .istioOutput, [owner(id, false)], .returnFromChain)
        }

        switch policy.ownerGroups {
        case .allExcept(let groups):
            for group in groups { set.append(.nat, .istioOutput, [Self.ownerMatch(group, negated: false)], .returnFromChain) }
        case .only(let groups):
            set.append(.nat, .istioOutput, groups.map { Self.ownerMatch($0, negated: true) }, .returnFromChain)
        }

        if dns { Self.appendDNSCapture(to: &set, policy: policy) }

        set.appendVersioned(.nat, .istioOutput, .returnFromChain, { [.destinationAddress($0, negated: false)] }, v4: loopbackV4, v6: Self.loopbackV6)
        for isIPv4 in [true, false] {
            set.appendEach(.nat, .istioOutput, .addresses(policy.outboundIPRangesExclude.filter { $0.isIPv4 == isIPv4 }),
                           [Self.addressTemplate(.returnFromChain)])
        }
        set.appendEach(.nat, .istioOutput, .ports(policy.outboundPortsInclude), [Self.portTemplate(.tcp, .jump(.istioRedirect))])
        Self.appendOutboundInclusions(to: &set, policy: policy)
        if tproxy { Self.appendTransparentProxyMarks(to: &set, policy: policy) }
        return set
    }

    /// `-p PROTO --dport VALUE` and the action, for each value of a port list (the 0 is replaced).
    static func portTemplate(_ proto: TransportProtocol, _ action: Action) -> RuleTemplate {
        RuleTemplate([.transportProtocol(proto), .destinationPort(0, negated: false)], slot: 1, action)
    }

    /// `-d VALUE` and the action, for each value of a CIDR list (the 0.0.0.0/0 is replaced).
    static func addressTemplate(_ action: Action) -> RuleTemplate {
        RuleTemplate([.destinationAddress(IPPrefix(address: .v4([0, 0, 0, 0]), length: 0), negated: false)], slot: 0, action)
    }

    private static func ownerMatch(_ group: OwnerGroup, negated: Bool) -> Match {
        switch group {
        case .id(let id): .socketGID(id, negated: negated)
        case .name(let name): .socketGroupName(name, negated: negated)
        }
    }

    private static func appendRedirectInboundCapture(to set: inout RuleSet, policy: InterceptionPolicy) {
        switch policy.inboundPortsInclude {
        case .ports(let ports) where ports.isEmpty:
            break
        case .all:
            set.append(.nat, .prerouting, [.transportProtocol(.tcp)], .jump(.istioInbound))
            set.appendEach(.nat, .istioInbound, .ports(policy.inboundPortsExclude), [portTemplate(.tcp, .returnFromChain)])
            set.append(.nat, .istioInbound, [.transportProtocol(.tcp)], .jump(.istioInRedirect))
        case .ports(let ports):
            set.append(.nat, .prerouting, [.transportProtocol(.tcp)], .jump(.istioInbound))
            set.appendEach(.nat, .istioInbound, .ports(ports), [portTemplate(.tcp, .jump(.istioInRedirect))])
        }
    }

    /// CNI always captures all DNS (the pod's resolver address is unknown to the plugin).
    private static func appendDNSCapture(to set: inout RuleSet, policy: InterceptionPolicy) {
        set.append(.raw, .output, [], .jump(.istioOutputDNS))
        set.append(.nat, .istioOutput, [], .jump(.istioOutputDNS))
        set.append(.nat, .istioOutputDNS, [.transportProtocol(.tcp), .destinationPort(dnsPort, negated: false)], .redirect(toPort: policy.dnsListenerPort))
        set.append(.nat, .istioOutputDNS, [.transportProtocol(.udp), .destinationPort(dnsPort, negated: false)], .redirect(toPort: policy.dnsListenerPort))
        // Separate conntrack zones for proxy<->upstream (1) and app<->proxy (2) DNS flows avoid UDP
        // conntrack collisions between the two legs.
        for owner in [Match.socketUID(policy.proxyUID, negated: false), .socketGID(policy.proxyGID, negated: false)] {
            set.append(.raw, .istioOutputDNS, [.transportProtocol(.udp), .destinationPort(dnsPort, negated: false), owner], .setConntrackZone(1))
            set.append(.raw, .istioOutputDNS, [.transportProtocol(.udp), .sourcePort(policy.dnsListenerPort), owner], .setConntrackZone(2))
        }
        set.append(.raw, .prerouting, [], .jump(.istioInbound))
        set.append(.raw, .istioOutputDNS, [.transportProtocol(.udp), .destinationPort(dnsPort, negated: false)], .setConntrackZone(2))
        set.append(.raw, .istioInbound, [.transportProtocol(.udp), .sourcePort(dnsPort)], .setConntrackZone(1))
    }

    /// Istio appends these per family; for `*` both families get the same rules at the same place,
    /// so they are recorded once as common rules (one rule in an `inet` table, one per restore file).
    private static func appendOutboundInclusions(to set: inout RuleSet, policy: InterceptionPolicy) {
        switch policy.outboundIPRangesInclude {
        case .all:
            set.append(.nat, .istioOutput, [], .jump(.istioRedirect))
            for interface in policy.rerouteInterfaces {
                set.insert(.nat, .prerouting, at: 1, [.inputInterface(interface)], .jump(.istioRedirect))
            }
        case .ranges(let prefixes):
            for isIPv4 in [true, false] {
                let family = prefixes.filter { $0.isIPv4 == isIPv4 }
                // Without reroute interfaces the list is one entry; with them Istio interleaves the
                // PREROUTING inserts with these appends, and the restore text keeps that order.
                guard !policy.rerouteInterfaces.isEmpty else {
                    set.appendEach(.nat, .istioOutput, .addresses(family), [addressTemplate(.jump(.istioRedirect))])
                    continue
                }
                for prefix in family {
                    for interface in policy.rerouteInterfaces {
                        set.insert(.nat, .prerouting, at: 1, [.inputInterface(interface), .destinationAddress(prefix, negated: false)], .jump(.istioRedirect))
                    }
                    set.append(.nat, .istioOutput, [.destinationAddress(prefix, negated: false)], .jump(.istioRedirect))
                }
            }
        }
    }
}
