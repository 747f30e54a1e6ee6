import Interception

/// A rule as `iptables-save` prints it back (both the legacy and the nft variant of iptables 1.8
/// print the same text): addresses, interfaces and protocol first, then each match with its `-m`,
/// numbers as the kernel keeps them (marks in hex). CHECK and the replacement of our own rules compare
/// against this form, so they never depend on how the restore input happened to be spelled.
public enum IPTablesSaveForm {
    /// The rule's text after `-A CHAIN `.
    public static func specification(of rule: Rule, family: AddressFamily) -> String {
        var prefix: [String] = []
        var protocolName: String?
        var sourceAddress: String?, destinationAddress: String?, inputInterface: String?, outputInterface: String?
        var matches: [String] = []
        for match in rule.matches {
            switch match {
            case .family: break
            case .transportProtocol(let proto): protocolName = proto.name
            case .sourceAddress(let prefix, let negated): sourceAddress = negate(negated) + "-s \(prefix.network)"
            case .destinationAddress(let prefix, let negated): destinationAddress = negate(negated) + "-d \(prefix.network)"
            case .inputInterface(let name): inputInterface = "-i \(name)"
            case .outputInterface(let name): outputInterface = "-o \(name)"
            case .destinationPort(let port, let negated): matches.append("-m \(protocolName ?? "tcp") " + negate(negated) + "--dport \(port)")
            case .sourcePort(let port): matches.append("-m \(protocolName ?? "tcp") --sport \(port)")
            case .destinationPortNotIn(let ports): matches.append("-m multiport ! --dports " + ports.map(String.init).joined(separator: ","))
            case .socketUID(let uid, let negated): matches.append("-m owner " + negate(negated) + "--uid-owner \(uid)")
            case .socketGID(let gid, let negated): matches.append("-m owner " + negate(negated) + "--gid-owner \(gid)")
            // iptables-save prints the GID: compare with a rule set whose names were resolved.
            case .socketGroupName(let name, let negated): matches.append("-m owner " + negate(negated) + "--gid-owner \(name)")
            case .conntrackState(let states): matches.append("-m conntrack --ctstate " + ordered(states).joined(separator: ","))
            case .packetMark(let mark, let negated): matches.append("-m mark " + negate(negated) + "--mark \(hex(mark))")
            case .connectionMark(let mark): matches.append("-m connmark --mark \(hex(mark))")
            }
        }
        prefix = [sourceAddress, destinationAddress, inputInterface, outputInterface, protocolName.map { "-p \($0)" }].compactMap { $0 }
        return (prefix + matches + [target(of: rule.action, family: family)]).joined(separator: " ")
    }

    static func target(of action: Action, family: AddressFamily) -> String {
        switch action {
        case .jump(let chain): "-j \(chain.iptablesName)"
        case .returnFromChain: "-j RETURN"
        case .drop: "-j DROP"
        case .accept: "-j ACCEPT"
        case .redirect(let port): "-j REDIRECT --to-ports \(port)"
        case .setConntrackZone(let zone): "-j CT --zone \(zone)"
        case .setPacketMark(let mark): "-j MARK --set-xmark \(hex(mark))/0xffffffff"
        case .transparentProxy(let port, let mark):
            "-j TPROXY --on-port \(port) --on-ip \(family == .ipv4 ? "0.0.0.0" : "::") --tproxy-mark \(hex(mark))/0xffffffff"
        case .saveMarkToConnection: "-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff"
        case .restoreMarkFromConnection: "-j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff"
        }
    }

    /// conntrack prints states in its own fixed order, whatever order they were given in.
    private static func ordered(_ states: [ConntrackState]) -> [String] {
        let order: [ConntrackState] = [.invalid, .related, .established]
        return order.filter(states.contains).map(IPTablesRestoreRenderer.name(of:))
    }

    private static func negate(_ negated: Bool) -> String { negated ? "! " : "" }

    private static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
}
