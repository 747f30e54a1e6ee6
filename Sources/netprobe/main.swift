import CSocketShim
import Glibc

// netprobe: the traffic tool for tests and the demo.
//   netprobe serve PORT LABEL [--udp] [--bind ADDR] [--uid N] [--gid N] [--transparent]
//                                       answer every TCP connection (IPv4 and IPv6, or ADDR only) with
//                                       "LABEL orig=<original destination> peer=<client>" and close;
//                                       with --udp answer every datagram with "LABEL". Runs as uid/gid
//                                       when given. --transparent listens like a TPROXY proxy
//                                       (IP_TRANSPARENT) and reports its local address, which TPROXY
//                                       leaves as the original destination. Prints "ready" once listening.
//   netprobe connect HOST PORT [--udp] [--uid N] [--gid N] [--timeout MS]
//                                       connect (as uid/gid, when given), print the first line received.

func fail(_ message: String) -> Never {
    let line = Array("netprobe: \(message)\n".utf8)
    _ = write(2, line, line.count)
    exit(1)
}

func say(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = write(1, line, line.count)
}

func errorText(_ code: Int32) -> String {
    String(cString: strerror(-code))
}

func text(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func serve(port: UInt16, label: String, udp: Bool, bind address: String?, uid: UInt32?, gid: UInt32?, transparent: Bool) -> Never {
    // A socket belongs to the user that created it (what `meta skuid` sees), so become the user first.
    if uid != nil || gid != nil {
        let status = csock_become(uid ?? 0, gid ?? 0)
        guard status == 0 else { fail("cannot become uid \(uid ?? 0) gid \(gid ?? 0): \(errorText(status))") }
    }
    let type = Int32(udp ? CSOCK_UDP : CSOCK_TCP)
    let families: [Int32] = address.map { $0.contains(":") ? [6] : [4] } ?? [4, 6]
    let listeners = families.compactMap { family -> (Int32, Int32)? in
        let fd = csock_listen(address, family, type, port)
        guard fd >= 0 else { return nil }
        if transparent {
            let status = csock_make_transparent(fd, family)
            guard status == 0 else { fail("cannot make the listener transparent: \(errorText(status))") }
        }
        return (fd, family)
    }
    guard !listeners.isEmpty else { fail("cannot listen on port \(port)") }
    say("ready")
    let descriptors = listeners.map(\.0)
    while true {
        let ready = csock_wait_any(descriptors, Int32(descriptors.count), 60_000)
        guard ready >= 0 else { continue }
        let (listener, family) = listeners[Int(ready)]
        var peer = [CChar](repeating: 0, count: 80)
        if udp {
            _ = csock_answer_datagram(listener, "\(label)\n", &peer, peer.count)
            continue
        }
        let connection = csock_accept(listener)
        guard connection >= 0 else { continue }
        var original = [CChar](repeating: 0, count: 80)
        let haveOriginal = transparent ? csock_local(connection, &original, original.count) >= 0
            : csock_original_destination(connection, family, &original, original.count) == 0
        _ = csock_peer(connection, &peer, peer.count)
        let reply = Array("\(label) orig=\(haveOriginal ? text(original) : "-") peer=\(text(peer))\n".utf8)
        _ = csock_write(connection, reply, reply.count)
        csock_close(connection)
    }
}

func connect(host: String, port: UInt16, udp: Bool, uid: UInt32?, gid: UInt32?, timeout: Int32) -> Never {
    if uid != nil || gid != nil {
        let status = csock_become(uid ?? 0, gid ?? 0)
        guard status == 0 else { fail("cannot become uid \(uid ?? 0) gid \(gid ?? 0): \(errorText(status))") }
    }
    let fd = csock_connect(host, port, Int32(udp ? CSOCK_UDP : CSOCK_TCP), timeout)
    guard fd >= 0 else { fail("connect \(host):\(port): \(errorText(fd))") }
    if udp {
        let query = Array("query\n".utf8)
        _ = csock_write(fd, query, query.count)
    }
    var buffer = [UInt8](repeating: 0, count: 512)
    let count = csock_read(fd, &buffer, buffer.count, timeout)
    guard count > 0 else { fail("no answer from \(host):\(port)\(count < 0 ? ": " + errorText(Int32(count)) : "")") }
    say(String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "")
    exit(0)
}

func option(_ name: String, in arguments: inout [String]) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    defer { arguments.removeSubrange(index...(index + 1)) }
    return arguments[index + 1]
}

func flag(_ name: String, in arguments: inout [String]) -> Bool {
    guard let index = arguments.firstIndex(of: name) else { return false }
    arguments.remove(at: index)
    return true
}

var arguments = Array(CommandLine.arguments.dropFirst())

let udp = flag("--udp", in: &arguments)
let transparent = flag("--transparent", in: &arguments)
let bindAddress = option("--bind", in: &arguments)
let uid = option("--uid", in: &arguments).flatMap { UInt32($0) }
let gid = option("--gid", in: &arguments).flatMap { UInt32($0) }
let timeout = option("--timeout", in: &arguments).flatMap { Int32($0) } ?? 2000
switch (arguments.first, arguments.count) {
case ("serve", 3):
    guard let port = UInt16(arguments[1]) else { fail("bad port \(arguments[1])") }
    serve(port: port, label: arguments[2], udp: udp, bind: bindAddress, uid: uid, gid: gid, transparent: transparent)
case ("connect", 3):
    guard let port = UInt16(arguments[2]) else { fail("bad port \(arguments[2])") }
    connect(host: arguments[1], port: port, udp: udp, uid: uid, gid: gid, timeout: timeout)
default:
    fail("usage: netprobe serve PORT LABEL [--udp] [--bind ADDR] [--uid N] [--gid N] [--transparent] | netprobe connect HOST PORT [--udp] [--uid N] [--gid N] [--timeout MS]")
}
