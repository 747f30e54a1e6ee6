import Interception

/// Renders a `RuleSet` as `iptables-restore --noflush` input in Istio's layout (reference §2.2): per
/// table `* table`, `-N` for Istio's chains, the rules in generation order, `COMMIT`. One document per
/// family; the IPv6 one is for `ip6tables-restore`. Every value comes from a validated `RuleSet`
/// (numbers, parsed CIDRs, checked interface names), so no pod-supplied text reaches the file.
public enum IPTablesRestoreRenderer {
    public static func render(_ rules: RuleSet, family: AddressFamily) -> String {
        var lines: [String] = []
        for table in rules.tables(for: family) {
            lines.append("* \(table.rawValue)")
            for chain in rules.chains(in: table) where !chain.isHook {
                lines.append("-N \(chain.iptablesName)")
            }
            lines += ruleLines(rules, table: table, family: family)
            lines.append("COMMIT")
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// The `-A`/`-I` lines of one table, in generation order.
    static func ruleLines(_ rules: RuleSet, table: RuleTable, family: AddressFamily) -> [String] {
        rules.operations(for: family).filter { $0.table == table }.map { operation in
            let head: String
            switch operation.position {
            case .append: head = "-A \(operation.chain.iptablesName)"
            case .insert(let position): head = "-I \(operation.chain.iptablesName) \(position)"
            }
            return ([head] + operation.rule.matches.compactMap(text(of:)) + [text(of: operation.rule.action)]).joined(separator: " ")
        }
    }

    static func text(of match: Match) -> String? {
        switch match {
        case .family: return nil
        case .transportProtocol(let proto): return "-p \(proto.name)"
        case .destinationPort(let port, let negated): return negate(negated) + "--dport \(port)"
        case .destinationPortNotIn(let ports): return "-m multiport ! --dports " + ports.map(String.init).joined(separator: ",")
        case .sourcePort(let port): return "--sport \(port)"
        case .inputInterface(let name): return "-i \(name)"
        case .outputInterface(let name): return "-o \(name)"
        case .sourceAddress(let prefix, let negated): return negate(negated) + "-s \(prefix)"
        case .destinationAddress(let prefix, let negated): return negate(negated) + "-d \(prefix)"
        case .socketUID(let uid, let negated): return "-m owner " + negate(negated) + "--uid-owner \(uid)"
        case .socketGID(let gid, let negated): return "-m owner " + negate(negated) + "--gid-owner \(gid)"
        case .socketGroupName(let name, let negated): return "-m owner " + negate(negated) + "--gid-owner \(name)"
        case .conntrackState(let states):
            return "-m conntrack --ctstate " + states.map(name(of:)).joined(separator: ",")
        case .packetMark(let mark, let negated): return "-m mark " + negate(negated) + "--mark \(mark)"
        case .connectionMark(let mark): return "-m connmark --mark \(mark)"
        }
    }

    static func text(of action: Action) -> String {
        switch action {
        case .jump(let chain): "-j \(chain.iptablesName)"
        case .returnFromChain: "-j RETURN"
        case .drop: "-j DROP"
        case .redirect(let port): "-j REDIRECT --to-ports \(port)"
        case .setConntrackZone(let zone): "-j CT --zone \(zone)"
        case .accept: "-j ACCEPT"
        case .setPacketMark(let mark): "-j MARK --set-mark \(mark)"
        case .transparentProxy(let port, let mark): "-j TPROXY --tproxy-mark \(mark)/0xffffffff --on-port \(port)"
        case .saveMarkToConnection: "-j CONNMARK --save-mark"
        case .restoreMarkFromConnection: "-j CONNMARK --restore-mark"
        }
    }

    private static func negate(_ negated: Bool) -> String { negated ? "! " : "" }

    static func name(of state: ConntrackState) -> String {
        switch state {
        case .invalid: "INVALID"
        case .established: "ESTABLISHED"
        case .related: "RELATED"
        }
    }
}
