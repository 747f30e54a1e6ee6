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
        var request = [UInt8](repeating: 0, count: 256)
        let length = request.withUnsafeMutableBytes { bytes -> Int in
            let header = mnl_nlmsg_put_header(bytes.baseAddress)!
            header.pointee.nlmsg_type = UInt16(RTM_NEWADDR)
            header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK)
            header.pointee.nlmsg_seq = 1
            let message = mnl_nlmsg_put_extra_header(header, MemoryLayout<ifaddrmsg>.size)!
                .assumingMemoryBound(to: ifaddrmsg.self)
            message.pointee.ifa_family = UInt8(AF_INET6)
            message.pointee.ifa_prefixlen = 128
            message.pointee.ifa_index = Self.loopbackIndex
            inboundPassthrough.withUnsafeBytes { address in
                mnl_attr_put(header, UInt16(IFA_LOCAL), 16, address.baseAddress)
                mnl_attr_put(header, UInt16(IFA_ADDRESS), 16, address.baseAddress)
            }
            return Int(header.pointee.nlmsg_len)
        }
        let outcome: Result<Void, NFTablesError> = request.withUnsafeBytes { bytes in
            do throws(NFTablesError) {
                try socket.send(bytes.baseAddress!, length: length, operation: "add ::6/128 to lo")
                try socket.awaitAcknowledgement(of: 1, describing: { _ in "address ::6/128 on lo" }, operation: "add ::6/128 to lo")
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        do throws(NFTablesError) {
            try outcome.get()
        } catch where error.errno == EEXIST {
            return
        }
    }
}
