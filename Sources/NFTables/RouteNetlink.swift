import CLibmnl
import Glibc

/// One rtnetlink request at a time over a NETLINK_ROUTE socket opened inside the namespace: build the
/// message, send it, wait for its acknowledgement, and treat the listed errnos as success (an address
/// or route that is already there, or already gone).
enum RouteNetlink {
    static func request(_ socket: NetlinkSocket, type: Int32, flags: Int32, describing what: String, subject: String,
                        tolerating tolerated: Set<Int32> = [], build: (UnsafeMutablePointer<nlmsghdr>) -> Void) throws(NFTablesError) {
        var request = [UInt8](repeating: 0, count: 512)
        let length = request.withUnsafeMutableBytes { bytes -> Int in
            let header = mnl_nlmsg_put_header(bytes.baseAddress)!
            header.pointee.nlmsg_type = UInt16(type)
            header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_ACK | flags)
            header.pointee.nlmsg_seq = 1
            build(header)
            return Int(header.pointee.nlmsg_len)
        }
        let outcome: Result<Void, NFTablesError> = request.withUnsafeBytes { bytes in
            do throws(NFTablesError) {
                try socket.send(bytes.baseAddress!, length: length, operation: what)
                try socket.awaitAcknowledgement(of: 1, describing: { _ in what }, operation: what)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        do throws(NFTablesError) {
            try outcome.get()
        } catch where error.errno.map(tolerated.contains) ?? false {
            return
        }
    }

    /// Dumps `type` for `family` and hands each message's fixed header and attributes to `body`.
    static func dump<Header>(_ socket: NetlinkSocket, type: Int32, family: Int32, header: Header.Type, operation: String,
                             _ body: (Header, [UInt16: [UInt8]]) -> Void) throws(NFTablesError) {
        var request = [UInt8](repeating: 0, count: 128)
        let length = request.withUnsafeMutableBytes { bytes -> Int in
            let message = mnl_nlmsg_put_header(bytes.baseAddress)!
            message.pointee.nlmsg_type = UInt16(type)
            message.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_DUMP)
            message.pointee.nlmsg_seq = 1
            // rtgenmsg, rtmsg and fib_rule_hdr all start with the family byte.
            let extra = mnl_nlmsg_put_extra_header(message, MemoryLayout<Header>.size)!
            extra.storeBytes(of: UInt8(family), as: UInt8.self)
            return Int(message.pointee.nlmsg_len)
        }
        let outcome: Result<Void, NFTablesError> = request.withUnsafeBytes { bytes in
            do throws(NFTablesError) {
                try socket.dump(bytes.baseAddress!, length: length, operation: operation) { message in
                    let fixed = UnsafeRawPointer(mnl_nlmsg_get_payload(message)).loadUnaligned(as: Header.self)
                    body(fixed, attributes(of: message, after: MemoryLayout<Header>.size))
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try outcome.get()
    }

    /// `dump`, where a family the kernel does not have (IPv6 disabled) simply has nothing.
    static func dumpIfSupported<Header>(_ socket: NetlinkSocket, type: Int32, family: Int32, header: Header.Type, operation: String,
                                        _ body: (Header, [UInt16: [UInt8]]) -> Void) throws(NFTablesError) {
        do throws(NFTablesError) {
            try dump(socket, type: type, family: family, header: header, operation: operation, body)
        } catch where error.errno == EAFNOSUPPORT {
            return
        }
    }

    private static func attributes(of message: UnsafePointer<nlmsghdr>, after headerSize: Int) -> [UInt16: [UInt8]] {
        var found: [UInt16: [UInt8]] = [:]
        let start = mnl_nlmsg_get_payload_offset(message, headerSize)!
        var remaining = Int32(message.pointee.nlmsg_len) - Int32(UnsafeRawPointer(start) - UnsafeRawPointer(message))
        var attribute = UnsafeMutableRawPointer(mutating: start).assumingMemoryBound(to: nlattr.self)
        while remaining > 0, mnl_attr_ok(attribute, remaining) {
            let payload = UnsafeRawBufferPointer(start: mnl_attr_get_payload(attribute), count: Int(mnl_attr_get_payload_len(attribute)))
            found[mnl_attr_get_type(attribute)] = Array(payload)
            remaining -= Int32((Int(attribute.pointee.nla_len) + 3) & ~3)
            attribute = mnl_attr_next(attribute)
        }
        return found
    }
}

extension Array where Element == UInt8 {
    /// A netlink u32 attribute's value (host byte order).
    var netlinkU32: UInt32? {
        count == 4 ? withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } : nil
    }
}
