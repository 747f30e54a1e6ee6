import CLibmnl
import CLibnftnl
import Glibc

/// A bound netlink socket (libmnl). Created on the namespace thread, it stays bound to that namespace.
final class NetlinkSocket {
    private let handle: OpaquePointer
    private let portID: UInt32
    private let subject: String
    /// Replies are read one datagram at a time; netlink keeps each under a page or two.
    private var buffer = [UInt8](repeating: 0, count: 32 * 1024)

    init(protocol netlinkProtocol: Int32, subject: String) throws(NFTablesError) {
        // Close-on-exec: the iptables backend starts iptables-restore, which must not inherit it.
        guard let handle = mnl_socket_open2(netlinkProtocol, Int32(SOCK_CLOEXEC.rawValue)) else {
            throw NFTablesError.system("mnl_socket_open2", subject)
        }
        guard mnl_socket_bind(handle, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let code = errno
            mnl_socket_close(handle)
            throw NFTablesError.system("mnl_socket_bind", subject, errno: code)
        }
        self.handle = handle
        self.portID = mnl_socket_get_portid(handle)
        self.subject = subject
        // Acknowledgements carry only the header, not a copy of each request, so a batch of thousands
        // of rules gets compact replies; extended acks add the kernel's reason to errors.
        var one: Int32 = 1
        setsockopt(mnl_socket_get_fd(handle), SOL_NETLINK, NETLINK_CAP_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(mnl_socket_get_fd(handle), SOL_NETLINK, NETLINK_EXT_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit {
        mnl_socket_close(handle)
    }

    /// Sizes the kernel buffers for one large batch and the acknowledgements it produces.
    func reserveBuffers(send: Int, receive: Int) {
        let fd = mnl_socket_get_fd(handle)
        var sendSize = Int32(clamping: send)
        var receiveSize = Int32(clamping: receive)
        if setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sendSize, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sendSize, socklen_t(MemoryLayout<Int32>.size))
        }
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receiveSize, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveSize, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    func send(_ buffer: UnsafeRawPointer, length: Int, operation: String) throws(NFTablesError) {
        guard mnl_socket_sendto(handle, buffer, length) == length else {
            throw NFTablesError.system(operation, subject)
        }
    }

    /// Reads replies until message `last` is acknowledged. Any error reply (the kernel sends one for
    /// each failing message, acknowledgement requested or not) aborts: the kernel rolled the whole batch
    /// back, and the error names the message that failed.
    func awaitAcknowledgement(of last: UInt32, describing describe: (UInt32) -> String,
                              operation: String) throws(NFTablesError) {
        var acknowledged = false
        while !acknowledged {
            let received = buffer.withUnsafeMutableBytes { mnl_socket_recvfrom(handle, $0.baseAddress, $0.count) }
            guard received > 0 else { throw NFTablesError.system(operation, subject) }
            var failure: NFTablesError?
            buffer.withUnsafeBytes { bytes in
                forEachMessage(in: bytes, count: received) { header, payload in
                    guard header.pointee.nlmsg_type == UInt16(NLMSG_ERROR) else { return }
                    let code = payload.load(as: Int32.self)
                    let sequence = header.pointee.nlmsg_seq
                    if code != 0, failure == nil {
                        let what = describe(sequence)
                        failure = NFTablesError(.rejected, operation, subject, errno: -code, detail: "kernel rejected \(what); nothing was applied")
                    } else if sequence == last {
                        acknowledged = true
                    }
                }
            }
            if let failure {
                drain()
                throw failure
            }
        }
    }

    /// Sends one dump request and collects every reply message until NLMSG_DONE.
    func dump(_ request: UnsafeRawPointer, length: Int, operation: String,
              _ handleMessage: (UnsafePointer<nlmsghdr>) -> Void) throws(NFTablesError) {
        try send(request, length: length, operation: operation)
        while true {
            let received = buffer.withUnsafeMutableBytes { mnl_socket_recvfrom(handle, $0.baseAddress, $0.count) }
            guard received > 0 else { throw NFTablesError.system(operation, subject) }
            var done = false
            var errorCode: Int32 = 0
            buffer.withUnsafeBytes { bytes in
                forEachMessage(in: bytes, count: received) { header, payload in
                    switch Int32(header.pointee.nlmsg_type) {
                    case NLMSG_DONE: done = true
                    case NLMSG_ERROR:
                        let code = payload.load(as: Int32.self)
                        if code != 0 { errorCode = -code }
                        done = true
                    default: handleMessage(header)
                    }
                }
            }
            if errorCode != 0 { throw NFTablesError.system(operation, subject, errno: errorCode) }
            if done { return }
        }
    }

    private func drain() {
        let fd = mnl_socket_get_fd(handle)
        while buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }) > 0 {}
    }

    private func forEachMessage(in bytes: UnsafeRawBufferPointer, count: Int,
                                _ body: (UnsafePointer<nlmsghdr>, UnsafeRawPointer) -> Void) {
        guard let base = bytes.baseAddress else { return }
        var remaining = Int32(count)
        var header: UnsafePointer<nlmsghdr>? = base.assumingMemoryBound(to: nlmsghdr.self)
        while let current = header, mnl_nlmsg_ok(current, remaining) {
            body(current, UnsafeRawPointer(mnl_nlmsg_get_payload(current)))
            header = UnsafePointer(mnl_nlmsg_next(current, &remaining))
        }
    }
}
