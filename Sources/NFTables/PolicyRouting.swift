import CLibmnl
import Glibc
import Interception

/// TPROXY's policy route, over rtnetlink in the pod's namespace: `fwmark MARK lookup TABLE` and
/// `local 0.0.0.0/0 dev lo table TABLE` (and `::/0` for IPv6), so packets the mangle rules marked are
/// delivered to the local stack, where the proxy's transparent listener takes them.
enum PolicyRouting {
    static func install(_ route: TransparentProxyRoute, families: [AddressFamily], on socket: NetlinkSocket, subject: String) throws(NFTablesError) {
        for family in families {
            // A rule without a priority gets the next free one, so the kernel never sees it as a
            // duplicate: look before adding, or every ADD into the namespace would add another.
            if try !hasRule(route, family: family, on: socket) {
                try RouteNetlink.request(socket, type: Int32(RTM_NEWRULE), flags: NLM_F_CREATE | NLM_F_EXCL,
                                         describing: "rule \(ruleText(route, family))", subject: subject, tolerating: [EEXIST]) {
                    putRule(route, family: family, into: $0)
                }
            }
            try RouteNetlink.request(socket, type: Int32(RTM_NEWROUTE), flags: NLM_F_CREATE | NLM_F_EXCL,
                                     describing: "route \(routeText(route, family))", subject: subject, tolerating: [EEXIST]) {
                putRoute(route, family: family, into: $0)
            }
        }
    }

    /// Removes both for every family; what is not there is fine.
    static func remove(_ route: TransparentProxyRoute, on socket: NetlinkSocket, subject: String) throws(NFTablesError) {
        for family in [AddressFamily.ipv4, .ipv6] {
            while try hasRule(route, family: family, on: socket) {
                try RouteNetlink.request(socket, type: Int32(RTM_DELRULE), flags: 0, describing: "deletion of rule \(ruleText(route, family))",
                                         subject: subject) {
                    putRule(route, family: family, into: $0)
                }
            }
            try RouteNetlink.request(socket, type: Int32(RTM_DELROUTE), flags: 0, describing: "deletion of route \(routeText(route, family))",
                                     subject: subject, tolerating: [ENOENT, ESRCH, EAFNOSUPPORT]) {
                putRoute(route, family: family, into: $0)
            }
        }
    }

    /// What is missing of the policy route for `families`; with `route` nil, what is there that should not be.
    static func problems(expected route: TransparentProxyRoute?, families: [AddressFamily], mark: UInt32, table: UInt32,
                         on socket: NetlinkSocket, subject: String) throws(NFTablesError) -> [String] {
        var problems: [String] = []
        let probe = route ?? TransparentProxyRoute(mark: mark, table: table)
        for family in [AddressFamily.ipv4, .ipv6] {
            let wanted = route != nil && families.contains(family)
            let present = (rule: try hasRule(probe, family: family, on: socket), route: try hasRoute(probe, family: family, on: socket))
            if wanted && !present.rule { problems.append("policy rule `\(ruleText(probe, family))` is missing") }
            if wanted && !present.route { problems.append("route `\(routeText(probe, family))` is missing") }
            if !wanted && present.rule { problems.append("unexpected policy rule `\(ruleText(probe, family))`") }
            if !wanted && present.route { problems.append("unexpected route `\(routeText(probe, family))`") }
        }
        return problems
    }

    static func ruleText(_ route: TransparentProxyRoute, _ family: AddressFamily) -> String {
        "\(family == .ipv4 ? "ip" : "ip -6") rule fwmark \(route.mark) lookup \(route.table)"
    }

    static func routeText(_ route: TransparentProxyRoute, _ family: AddressFamily) -> String {
        "local \(family == .ipv4 ? "0.0.0.0/0" : "::/0") dev lo table \(route.table)"
    }

    private static func hasRule(_ route: TransparentProxyRoute, family: AddressFamily, on socket: NetlinkSocket) throws(NFTablesError) -> Bool {
        var found = false
        try RouteNetlink.dumpIfSupported(socket, type: Int32(RTM_GETRULE), family: addressFamily(family), header: fib_rule_hdr.self,
                              operation: "list policy rules") { header, attributes in
            let table = attributes[UInt16(FRA_TABLE)]?.netlinkU32 ?? UInt32(header.table)
            if header.action == UInt8(FR_ACT_TO_TBL), table == route.table,
               attributes[UInt16(FRA_FWMARK)]?.netlinkU32 == route.mark {
                found = true
            }
        }
        return found
    }

    private static func hasRoute(_ route: TransparentProxyRoute, family: AddressFamily, on socket: NetlinkSocket) throws(NFTablesError) -> Bool {
        var found = false
        try RouteNetlink.dumpIfSupported(socket, type: Int32(RTM_GETROUTE), family: addressFamily(family), header: rtmsg.self,
                              operation: "list routes") { header, attributes in
            let table = attributes[UInt16(RTA_TABLE.rawValue)]?.netlinkU32 ?? UInt32(header.rtm_table)
            if table == route.table, header.rtm_type == UInt8(RTN_LOCAL), header.rtm_dst_len == 0,
               attributes[UInt16(RTA_OIF.rawValue)]?.netlinkU32 == LoopbackAddress.loopbackIndex {
                found = true
            }
        }
        return found
    }

    private static func putRule(_ route: TransparentProxyRoute, family: AddressFamily, into header: UnsafeMutablePointer<nlmsghdr>) {
        let rule = mnl_nlmsg_put_extra_header(header, MemoryLayout<fib_rule_hdr>.size)!.assumingMemoryBound(to: fib_rule_hdr.self)
        rule.pointee.family = UInt8(addressFamily(family))
        rule.pointee.action = UInt8(FR_ACT_TO_TBL)
        rule.pointee.table = route.table < 256 ? UInt8(route.table) : UInt8(RT_TABLE_UNSPEC.rawValue)
        mnl_attr_put_u32(header, UInt16(FRA_FWMARK), route.mark)
        mnl_attr_put_u32(header, UInt16(FRA_TABLE), route.table)
    }

    private static func putRoute(_ route: TransparentProxyRoute, family: AddressFamily, into header: UnsafeMutablePointer<nlmsghdr>) {
        let message = mnl_nlmsg_put_extra_header(header, MemoryLayout<rtmsg>.size)!.assumingMemoryBound(to: rtmsg.self)
        message.pointee.rtm_family = UInt8(addressFamily(family))
        message.pointee.rtm_dst_len = 0
        message.pointee.rtm_table = route.table < 256 ? UInt8(route.table) : UInt8(RT_TABLE_UNSPEC.rawValue)
        message.pointee.rtm_protocol = UInt8(RTPROT_BOOT)
        message.pointee.rtm_scope = UInt8(RT_SCOPE_HOST.rawValue)
        message.pointee.rtm_type = UInt8(RTN_LOCAL)
        mnl_attr_put_u32(header, UInt16(RTA_TABLE.rawValue), route.table)
        mnl_attr_put_u32(header, UInt16(RTA_OIF.rawValue), LoopbackAddress.loopbackIndex)
    }

    private static func addressFamily(_ family: AddressFamily) -> Int32 { family == .ipv4 ? AF_INET : AF_INET6 }
}
