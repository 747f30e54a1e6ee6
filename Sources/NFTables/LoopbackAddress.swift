import CLibmnl
import Glibc

/// Adds `::6/128` to `lo` (what Istio does with `ip -6 addr add ::6/128 dev lo` for IPv6 pods): the
/// proxy binds inbound-passthrough connections to it, and unlike 127.0.0.6 it is not usable without
/// being assigned. `socket` is a NETLINK_ROUTE socket opened inside the namespace.
enum LoopbackAddress {
    static let inboundPassthrough: [UInt8] = [UInt8](repeating: 0, count: 15) + [6]
    /// The loopback device is the first device of every network namespace.
    static let loopbackIndex: UInt32 = 1

    static func addInboundPassthroughAddress(on socket: NetlinkSocket, subject: String) throws(NFTablesError) {
        try RouteNetlink.request(socket, type: Int32(RTM_NEWADDR), flags: NLM_F_CREATE | NLM_F_EXCL,
                                 describing: "address ::6/128 on lo", subject: subject, tolerating: [EEXIST]) { header in
            let message = mnl_nlmsg_put_extra_header(header, MemoryLayout<ifaddrmsg>.size)!
                .assumingMemoryBound(to: ifaddrmsg.self)
            message.pointee.ifa_family = UInt8(AF_INET6)
            message.pointee.ifa_prefixlen = 128
            message.pointee.ifa_index = Self.loopbackIndex
            inboundPassthrough.withUnsafeBytes { address in
                mnl_attr_put(header, UInt16(IFA_LOCAL), 16, address.baseAddress)
                mnl_attr_put(header, UInt16(IFA_ADDRESS), 16, address.baseAddress)
            }
        }
    }
}
