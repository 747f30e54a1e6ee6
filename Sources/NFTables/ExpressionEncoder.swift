import CLibnftnl
import CNI
import Glibc
import Interception

/// Encodes one IR rule as libnftnl expressions, the same expressions `nft` generates for the
/// equivalent rule text (checked against `nft --debug=netlink` in the tests), always with a counter.
struct ExpressionEncoder {
    private let rule: OpaquePointer
    private var knownFamily: AddressFamily?

    /// Appends the expressions of `ir` to the libnftnl rule `rule`. `gateToIPv4` prefixes the rule with
    /// `meta nfproto ipv4`, used on hook-chain rules when the pod has no IPv6 so an `inet` table
    /// leaves IPv6 traffic alone exactly as an IPv4-only iptables setup would.
    /// A folded rule (`set`) looks its port or address up in the anonymous set with batch id `setID`.
    static func encode(_ ir: Rule, into rule: OpaquePointer, gateToIPv4: Bool, set: FoldedSet? = nil, setID: UInt32 = 0) {
        var encoder = ExpressionEncoder(rule: rule)
        if gateToIPv4 { encoder.requireFamily(.ipv4) }
        for (index, match) in ir.matches.enumerated() {
            if let set, index == set.matchIndex {
                encoder.encodeLookup(set.elements, setID: setID)
            } else {
                encoder.encode(match)
            }
        }
        encoder.add("counter")
        encoder.encode(ir.action)
    }

    /// The anonymous set's name before the kernel names it; the batch links rule and set by id.
    static let anonymousSetName = "__set%d"

    private mutating func encodeLookup(_ elements: FoldedSet.Elements, setID: UInt32) {
        switch elements {
        case .ports:
            loadPayload(NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, length: 2)
        case .addresses(let family, _):
            requireFamily(family)
            loadPayload(NFT_PAYLOAD_NETWORK_HEADER, offset: family == .ipv4 ? 16 : 24, length: family == .ipv4 ? 4 : 16)
        }
        let expression = add("lookup")
        nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_LOOKUP_SREG), register(NFT_REG_1))
        nftnl_expr_set_str(expression, attribute(NFTNL_EXPR_LOOKUP_SET), Self.anonymousSetName)
        nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_LOOKUP_SET_ID), setID)
    }

    private init(rule: OpaquePointer) {
        self.rule = rule
    }

    private mutating func encode(_ match: Match) {
        switch match {
        case .family(let family):
            requireFamily(family)
        case .transportProtocol(let proto):
            loadMeta(NFT_META_L4PROTO)
            compare(NFT_CMP_EQ, [proto.number])
        case .destinationPort(let port, let negated):
            loadPayload(NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, length: 2)
            compare(negated ? NFT_CMP_NEQ : NFT_CMP_EQ, bigEndian(port))
        case .destinationPortNotIn(let ports):
            // Equivalent to `tcp dport != { a, b }` without an anonymous set: one load, one test per port.
            loadPayload(NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, length: 2)
            for port in ports { compare(NFT_CMP_NEQ, bigEndian(port)) }
        case .sourcePort(let port):
            loadPayload(NFT_PAYLOAD_TRANSPORT_HEADER, offset: 0, length: 2)
            compare(NFT_CMP_EQ, bigEndian(port))
        case .inputInterface(let name):
            loadMeta(NFT_META_IIFNAME)
            compare(NFT_CMP_EQ, interfaceNameBytes(name))
        case .outputInterface(let name):
            loadMeta(NFT_META_OIFNAME)
            compare(NFT_CMP_EQ, interfaceNameBytes(name))
        case .sourceAddress(let prefix, let negated):
            compareAddress(prefix, source: true, negated: negated)
        case .destinationAddress(let prefix, let negated):
            compareAddress(prefix, source: false, negated: negated)
        case .socketUID(let uid, let negated):
            loadMeta(NFT_META_SKUID)
            compare(negated ? NFT_CMP_NEQ : NFT_CMP_EQ, hostOrder(uid))
        case .socketGID(let gid, let negated):
            loadMeta(NFT_META_SKGID)
            compare(negated ? NFT_CMP_NEQ : NFT_CMP_EQ, hostOrder(gid))
        case .socketGroupName:
            // Never reached: NFTablesBackend refuses a rule set that still names groups before it
            // encodes any rule (PodRules resolves them to GIDs for this backend).
            break
        case .conntrackState(let states):
            loadConntrack(NFT_CT_STATE)
            let mask = states.reduce(UInt32(0)) { $0 | Self.stateBit($1) }
            bitwise(mask: hostOrder(mask))
            compare(NFT_CMP_NEQ, hostOrder(UInt32(0)))
        case .packetMark(let mark, let negated):
            loadMeta(NFT_META_MARK)
            compare(negated ? NFT_CMP_NEQ : NFT_CMP_EQ, hostOrder(mark))
        case .connectionMark(let mark):
            loadConntrack(NFT_CT_MARK)
            compare(NFT_CMP_EQ, hostOrder(mark))
        }
    }

    private mutating func encode(_ action: Action) {
        switch action {
        case .jump(let chain):
            verdict(NFT_JUMP, chain: chain.nftName)
        case .returnFromChain:
            verdict(NFT_RETURN)
        case .drop:
            verdict(nft_verdicts(rawValue: Int32(NF_DROP)))
        case .redirect(let port):
            immediate(bigEndian(port))
            let expression = add("redir")
            nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_REDIR_REG_PROTO_MIN), register(NFT_REG_1))
            nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_REDIR_REG_PROTO_MAX), register(NFT_REG_1))
            nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_REDIR_FLAGS), UInt32(NF_NAT_RANGE_PROTO_SPECIFIED))
        case .setConntrackZone(let zone):
            immediate(withUnsafeBytes(of: zone) { Array($0) })
            storeConntrack(NFT_CT_ZONE)
        case .accept:
            verdict(nft_verdicts(rawValue: Int32(NF_ACCEPT)))
        case .setPacketMark(let mark):
            immediate(hostOrder(mark))
            storeMeta(NFT_META_MARK)
        case .transparentProxy(let port, let mark):
            // `tproxy ip to :PORT meta mark set MARK accept`; the backend follows it with a rule
            // that drops what no transparent socket took, as the iptables target does.
            immediate(bigEndian(port))
            let expression = add("tproxy")
            let family: Int32 = switch knownFamily {
            case .ipv4: Int32(NFPROTO_IPV4)
            case .ipv6: Int32(NFPROTO_IPV6)
            case nil: Int32(NFPROTO_UNSPEC)
            }
            nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_TPROXY_FAMILY), UInt32(family))
            nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_TPROXY_REG_PORT), register(NFT_REG_1))
            immediate(hostOrder(mark))
            storeMeta(NFT_META_MARK)
            verdict(nft_verdicts(rawValue: Int32(NF_ACCEPT)))
        case .saveMarkToConnection:
            loadMeta(NFT_META_MARK)
            storeConntrack(NFT_CT_MARK)
        case .restoreMarkFromConnection:
            loadConntrack(NFT_CT_MARK)
            storeMeta(NFT_META_MARK)
        }
    }

    private mutating func requireFamily(_ family: AddressFamily) {
        guard knownFamily != family else { return }
        loadMeta(NFT_META_NFPROTO)
        compare(NFT_CMP_EQ, [UInt8(family == .ipv4 ? NFPROTO_IPV4 : NFPROTO_IPV6)])
        knownFamily = family
    }

    private mutating func compareAddress(_ prefix: IPPrefix, source: Bool, negated: Bool) {
        requireFamily(prefix.isIPv4 ? .ipv4 : .ipv6)
        let length = UInt32(prefix.address.bytes.count)
        let offset: UInt32 = prefix.isIPv4 ? (source ? 12 : 16) : (source ? 8 : 24)
        loadPayload(NFT_PAYLOAD_NETWORK_HEADER, offset: offset, length: length)
        if prefix.length < prefix.address.bitLength { bitwise(mask: prefix.maskBytes) }
        compare(negated ? NFT_CMP_NEQ : NFT_CMP_EQ, prefix.maskedBytes)
    }

    @discardableResult
    private func add(_ name: String) -> OpaquePointer {
        let expression = nftnl_expr_alloc(name)!
        nftnl_rule_add_expr(rule, expression)
        return expression
    }

    private func loadMeta(_ key: nft_meta_keys) { keyed("meta", NFTNL_EXPR_META_KEY, key.rawValue, register: NFTNL_EXPR_META_DREG) }
    private func storeMeta(_ key: nft_meta_keys) { keyed("meta", NFTNL_EXPR_META_KEY, key.rawValue, register: NFTNL_EXPR_META_SREG) }
    private func loadConntrack(_ key: nft_ct_keys) { keyed("ct", NFTNL_EXPR_CT_KEY, key.rawValue, register: NFTNL_EXPR_CT_DREG) }
    private func storeConntrack(_ key: nft_ct_keys) { keyed("ct", NFTNL_EXPR_CT_KEY, key.rawValue, register: NFTNL_EXPR_CT_SREG) }

    /// A `meta` or `ct` expression on register 1; `registerAttribute` (DREG or SREG) says whether it
    /// loads the key into the register or stores the register into the key.
    private func keyed(_ name: String, _ keyAttribute: Int, _ key: UInt32, register registerAttribute: Int) {
        let expression = add(name)
        nftnl_expr_set_u32(expression, attribute(keyAttribute), key)
        nftnl_expr_set_u32(expression, attribute(registerAttribute), register(NFT_REG_1))
    }

    private func loadPayload(_ base: nft_payload_bases, offset: UInt32, length: UInt32) {
        let expression = add("payload")
        nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_PAYLOAD_BASE), base.rawValue)
        nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_PAYLOAD_OFFSET), offset)
        nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_PAYLOAD_LEN), length)
        nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_PAYLOAD_DREG), register(NFT_REG_1))
    }

    private func compare(_ operation: nft_cmp_ops, _ data: [UInt8]) {
        let expression = add("cmp")
        nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_CMP_SREG), register(NFT_REG_1))
        nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_CMP_OP), operation.rawValue)
        data.withUnsafeBytes { _ = nftnl_expr_set(expression, attribute(NFTNL_EXPR_CMP_DATA), $0.baseAddress, UInt32($0.count)) }
    }

    private func bitwise(mask: [UInt8]) {
        let expression = add("bitwise")
        nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_BITWISE_SREG), register(NFT_REG_1))
        nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_BITWISE_DREG), register(NFT_REG_1))
        nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_BITWISE_LEN), UInt32(mask.count))
        let xor = [UInt8](repeating: 0, count: mask.count)
        mask.withUnsafeBytes { _ = nftnl_expr_set(expression, attribute(NFTNL_EXPR_BITWISE_MASK), $0.baseAddress, UInt32($0.count)) }
        xor.withUnsafeBytes { _ = nftnl_expr_set(expression, attribute(NFTNL_EXPR_BITWISE_XOR), $0.baseAddress, UInt32($0.count)) }
    }

    private func immediate(_ data: [UInt8]) {
        let expression = add("immediate")
        nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_IMM_DREG), register(NFT_REG_1))
        data.withUnsafeBytes { _ = nftnl_expr_set(expression, attribute(NFTNL_EXPR_IMM_DATA), $0.baseAddress, UInt32($0.count)) }
    }

    private func verdict(_ verdict: nft_verdicts, chain: String? = nil) {
        let expression = add("immediate")
        nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_IMM_DREG), register(NFT_REG_VERDICT))
        nftnl_expr_set_u32(expression, attribute(NFTNL_EXPR_IMM_VERDICT), UInt32(bitPattern: verdict.rawValue))
        if let chain { nftnl_expr_set_str(expression, attribute(NFTNL_EXPR_IMM_CHAIN), chain) }
    }

    private func bigEndian(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    private func hostOrder(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    /// Interface names compare as 16 NUL-padded bytes; a trailing '+' (iptables wildcard) compares
    /// only the prefix, as nft does for `"eth*"`.
    private func interfaceNameBytes(_ name: String) -> [UInt8] {
        if name.hasSuffix("+") { return Array(name.dropLast().utf8) }
        let bytes = Array(name.utf8)
        return bytes + [UInt8](repeating: 0, count: max(0, 16 - bytes.count))
    }

    private static func stateBit(_ state: ConntrackState) -> UInt32 {
        switch state {
        case .invalid: 1
        case .established: 1 << 1
        case .related: 1 << 2
        }
    }
}
