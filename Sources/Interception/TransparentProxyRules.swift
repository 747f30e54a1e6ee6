import CNI

/// The TPROXY parts of Istio's capture (reference §2.2 steps 6 and 18): inbound TCP is handed to the
/// proxy's transparent listener in the mangle table instead of being NATed, so the proxy sees the
/// client's own address; marks keep the proxy's replies and its calls to the app out of the capture.
extension RedirectPlan {
    /// The route of a default policy (what DEL removes when a record says we added one).
    public static let defaultRoute = TransparentProxyRoute(mark: InterceptionPolicy().transparentProxyMark,
                                                          table: InterceptionPolicy().transparentProxyRouteTable)

    static func appendTransparentInboundCapture(to set: inout RuleSet, policy: InterceptionPolicy) {
        guard !policy.inboundPortsInclude.isNone else { return }
        let mark = policy.transparentProxyMark
        set.append(.mangle, .istioDivert, [], .setPacketMark(mark))
        set.append(.mangle, .istioDivert, [], .accept)
        set.appendVersioned(.mangle, .istioTransparentProxy, .transparentProxy(toPort: policy.inboundCapturePort, mark: mark),
                            { [.destinationAddress($0, negated: true), .transportProtocol(.tcp)] }, v4: policy.hostIPv4LoopbackCIDR, v6: loopbackV6)
        set.append(.mangle, .prerouting, [.transportProtocol(.tcp)], .jump(.istioInbound))
        // Packets of connections the proxy already took go straight to it; new ones through TPROXY.
        let established = Match.conntrackState([.related, .established])
        switch policy.inboundPortsInclude {
        case .all:
            set.appendEach(.mangle, .istioInbound, .ports(policy.inboundPortsExclude), [portTemplate(.tcp, .returnFromChain)])
            set.append(.mangle, .istioInbound, [.transportProtocol(.tcp), established], .jump(.istioDivert))
            set.append(.mangle, .istioInbound, [.transportProtocol(.tcp)], .jump(.istioTransparentProxy))
        case .ports(let ports):
            let onPort: [Match] = [.transportProtocol(.tcp), .destinationPort(0, negated: false)]
            set.appendEach(.mangle, .istioInbound, .ports(ports), [
                RuleTemplate(onPort + [established], slot: 1, .jump(.istioDivert)), RuleTemplate(onPort, slot: 1, .jump(.istioTransparentProxy)),
            ])
        }
        set.transparentProxyRoute = TransparentProxyRoute(mark: mark, table: policy.transparentProxyRouteTable)
    }

    static func appendTransparentProxyMarks(to set: inout RuleSet, policy: InterceptionPolicy) {
        let mark = policy.transparentProxyMark
        let proxyMark = policy.proxyOutboundMark
        // The original-source listener filter marks the proxy's upstream packets; the connection keeps it.
        set.append(.mangle, .prerouting, [.transportProtocol(.tcp), .packetMark(mark, negated: false)], .saveMarkToConnection)
        set.append(.mangle, .output, [.transportProtocol(.tcp), .outputInterface("lo"), .packetMark(mark, negated: false)], .returnFromChain)
        // The proxy's own calls to the app over lo (app → VIP → outbound proxy → inbound proxy → app).
        for owner in [Match.socketUID(policy.proxyUID, negated: false), .socketGID(policy.proxyGID, negated: false)] {
            set.appendVersioned(.mangle, .output, .setPacketMark(proxyMark), {
                [.destinationAddress($0, negated: true), .transportProtocol(.tcp), .outputInterface("lo"), owner]
            }, v4: policy.hostIPv4LoopbackCIDR, v6: loopbackV6)
        }
        set.append(.mangle, .output, [.transportProtocol(.tcp), .connectionMark(mark)], .restoreMarkFromConnection)
        // Never capture what the proxy already handled, its passthrough connections, or app-to-app over lo.
        set.insert(.mangle, .istioInbound, at: 1, [.transportProtocol(.tcp), .packetMark(mark, negated: false)], .returnFromChain)
        set.insert(.mangle, .istioInbound, at: 2, [.transportProtocol(.tcp), .sourceAddress(inboundPassthroughSourceV4, negated: false), .inputInterface("lo")], .returnFromChain)
        set.insert(.mangle, .istioInbound, at: 2, [.transportProtocol(.tcp), .sourceAddress(inboundPassthroughSourceV6, negated: false), .inputInterface("lo")], .returnFromChain)
        set.insert(.mangle, .istioInbound, at: 3, [.transportProtocol(.tcp), .inputInterface("lo"), .packetMark(proxyMark, negated: true)], .returnFromChain)
    }
}
