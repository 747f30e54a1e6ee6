import Interception

/// Renders a `RuleSet` as `iptables-restore --noflush` input in Istio's layout (reference §2.2): per
/// table `* table`, `-N` for Istio's chains, the rules in generation order, `COMMIT`. One document per
/// family; the IPv6 one is for `ip6tables-restore`. Every value comes from a validated `RuleSet`
/// (numbers, parsed CIDRs, checked interface names), so no pod-supplied text reaches the file.
public enum IPTablesRestoreRenderer {
    public static func render(_ rules: RuleSet, family: AddressFamily) -> String {
        let operations = rules.operations(for: family)
        var lines: [String] = []
        for table in rules.tables where operations.contains(where: { $0.table == table }) {
            lines.append("* \(table.rawValue)")
            for chain in rules.chains(in: table) where !chain.isHook {
                lines.append("-N \(chain.iptablesName)")
            }
            for operation in operations where operation.table == table {
                let head: String
                switch operation.position {
                case .append: head = "-A \(operation.chain.iptablesName)"
                case .insert(let position): head = "-I \(operation.chain.iptablesName) \(position)"
                }
                lines.append(([head] + operation.rule.matches.compactMap(text(of:)) + [text(of: operation.rule.action)]).joined(separator: " "))
            }
            lines.append("COMMIT")
        }
        return lines.map { $0 + "\n" }.joined()
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
        case .conntrackState(let states):
            return "-m conntrack --ctstate " + states.map(name(of:)).joined(separator: ",")
        }
    }

    static func text(of action: Action) -> String {
        switch action {
        case .jump(let chain): "-j \(chain.iptablesName)"
        case .returnFromChain: "-j RETURN"
        case .drop: "-j DROP"
        case .redirect(let port): "-j REDIRECT --to-ports \(port)"
        case .setConntrackZone(let zone): "-j CT --zone \(zone)"
        }
    }

    private static func negate(_ negated: Bool) -> String { negated ? "! " : "" }

    private static func name(of state: ConntrackState) -> String {
        switch state {
        case .invalid: "INVALID"
        case .established: "ESTABLISHED"
        case .related: "RELATED"
        }
    }
}
