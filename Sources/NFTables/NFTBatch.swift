import CLibmnl
import CLibnftnl
import Glibc
import Interception

/// One nf_tables transaction: everything between BEGIN and END commits atomically or not at all.
/// The kernel reports every failing message by sequence number (each is described here so a rejection
/// names the exact table, chain or rule); only the last message asks for an acknowledgement, which
/// tells the whole batch was processed without one reply per rule.
final class NFTBatch {
    private let buffer: UnsafeMutableRawPointer
    private let batch: OpaquePointer
    private var sequence: UInt32 = 1
    /// Descriptions of the messages, the first at sequence number `firstMessage`.
    private(set) var descriptions: [MessageDescription] = []
    private var firstMessage: UInt32?
    private(set) var lastMessage: UInt32?
    private(set) var overflowed = false
    private var lastHeader: UnsafeMutablePointer<nlmsghdr>?

    private var nextSetID: UInt32 = 1
    /// Elements per NEWSETELEM message, as nft splits large sets.
    static let elementsPerMessage = 1024

    /// `expectedElements`: set elements the batch will carry (each well under 64 bytes encoded).
    init(expectedMessages: Int, expectedElements: Int = 0) {
        // libmnl lets the last message run past the limit, so the buffer is twice the limit. A rule
        // with every match Istio uses encodes to well under 1 KiB.
        let limit = 16 * 1024 + expectedMessages * 1024 + expectedElements * 64
        buffer = UnsafeMutableRawPointer.allocate(byteCount: limit * 2, alignment: 16)
        batch = mnl_nlmsg_batch_start(buffer, limit)
    }

    deinit {
        mnl_nlmsg_batch_stop(batch)
        buffer.deallocate()
    }

    var bytes: UnsafeRawPointer { UnsafeRawPointer(mnl_nlmsg_batch_head(batch)) }
    var length: Int { mnl_nlmsg_batch_size(batch) }
    var messageCount: Int { descriptions.count }

    /// What message `sequence` did, for error reports.
    func describe(_ sequence: UInt32) -> String {
        guard let first = firstMessage, sequence >= first, Int(sequence - first) < descriptions.count else {
            return "message \(sequence)"
        }
        return descriptions[Int(sequence - first)].text
    }

    func begin() {
        nftnl_batch_begin(current, nextSequence())
        advance()
    }

    func end() {
        if let lastHeader { lastHeader.pointee.nlmsg_flags |= UInt16(NLM_F_ACK) }
        nftnl_batch_end(current, nextSequence())
        advance()
    }

    func addTable(_ name: String) {
        let table = nftnl_table_alloc()!
        defer { nftnl_table_free(table) }
        nftnl_table_set_u32(table, attribute(NFTNL_TABLE_FAMILY), UInt32(familyInet))
        nftnl_table_set_str(table, attribute(NFTNL_TABLE_NAME), name)
        let header = header(NFT_MSG_NEWTABLE, flags(NLM_F_CREATE, NLM_F_EXCL), describing: .text("table inet \(name)"))
        nftnl_table_nlmsg_build_payload(header, table)
        advance()
    }

    func deleteTable(_ name: String) {
        let table = nftnl_table_alloc()!
        defer { nftnl_table_free(table) }
        nftnl_table_set_u32(table, attribute(NFTNL_TABLE_FAMILY), UInt32(familyInet))
        nftnl_table_set_str(table, attribute(NFTNL_TABLE_NAME), name)
        let header = header(NFT_MSG_DELTABLE, flags(), describing: .text("deletion of table inet \(name)"))
        nftnl_table_nlmsg_build_payload(header, table)
        advance()
    }

    func addChain(table: String, name: String, hook: HookChainLayout?) {
        let chain = nftnl_chain_alloc()!
        defer { nftnl_chain_free(chain) }
        nftnl_chain_set_u32(chain, attribute(NFTNL_CHAIN_FAMILY), UInt32(familyInet))
        nftnl_chain_set_str(chain, attribute(NFTNL_CHAIN_TABLE), table)
        nftnl_chain_set_str(chain, attribute(NFTNL_CHAIN_NAME), name)
        if let hook {
            nftnl_chain_set_u32(chain, attribute(NFTNL_CHAIN_HOOKNUM), hook.hook)
            nftnl_chain_set_s32(chain, attribute(NFTNL_CHAIN_PRIO), hook.priority)
            nftnl_chain_set_str(chain, attribute(NFTNL_CHAIN_TYPE), hook.type)
            nftnl_chain_set_u32(chain, attribute(NFTNL_CHAIN_POLICY), UInt32(NF_ACCEPT))
        }
        let header = header(NFT_MSG_NEWCHAIN, flags(NLM_F_CREATE), describing: .text("chain inet \(table) \(name)"))
        nftnl_chain_nlmsg_build_payload(header, chain)
        advance()
    }

    /// Adds the rule, after its anonymous set when it is a folded one.
    func addRule(table: String, chain: String, rule ir: NFTRule, gateToIPv4: Bool, description: MessageDescription) {
        var setID: UInt32 = 0
        if let set = ir.set {
            setID = nextSetID
            nextSetID += 1
            addAnonymousSet(table: table, id: setID, encoding: set.encoding, description: description)
        }
        let rule = Self.makeRule(table: table, chain: chain, rule: ir, gateToIPv4: gateToIPv4, setID: setID)
        defer { nftnl_rule_free(rule) }
        let header = header(NFT_MSG_NEWRULE, flags(NLM_F_APPEND, NLM_F_CREATE), describing: description)
        nftnl_rule_nlmsg_build_payload(header, rule)
        advance()
    }

    /// A libnftnl rule object for `ir` (the caller frees it). CHECK builds the same objects to compare.
    static func makeRule(table: String, chain: String, rule ir: NFTRule, gateToIPv4: Bool, setID: UInt32 = 0) -> OpaquePointer {
        let rule = nftnl_rule_alloc()!
        nftnl_rule_set_u32(rule, attribute(NFTNL_RULE_FAMILY), UInt32(familyInet))
        nftnl_rule_set_str(rule, attribute(NFTNL_RULE_TABLE), table)
        nftnl_rule_set_str(rule, attribute(NFTNL_RULE_CHAIN), chain)
        ExpressionEncoder.encode(ir.rule, into: rule, gateToIPv4: gateToIPv4, set: ir.set, setID: setID)
        return rule
    }

    /// NEWSET for a constant anonymous set, then its elements in messages of `elementsPerMessage`.
    private func addAnonymousSet(table: String, id: UInt32, encoding: AnonymousSetEncoding, description: MessageDescription) {
        let set = Self.makeSet(table: table, id: id)
        defer { nftnl_set_free(set) }
        nftnl_set_set_u32(set, attribute(NFTNL_SET_FLAGS), encoding.flags)
        nftnl_set_set_u32(set, attribute(NFTNL_SET_KEY_TYPE), encoding.keyType)
        nftnl_set_set_u32(set, attribute(NFTNL_SET_KEY_LEN), UInt32(encoding.keyLength))
        nftnl_set_set_u32(set, attribute(NFTNL_SET_DESC_SIZE), UInt32(encoding.count))
        let setHeader = header(NFT_MSG_NEWSET, flags(NLM_F_CREATE), describing: .set(of: description, elements: encoding.count))
        nftnl_set_nlmsg_build_payload(setHeader, set)
        advance()
        // nft's element userdata for an open interval: NFTNL_UDATA_SET_ELEM_FLAGS (1), 4 bytes,
        // NFTNL_SET_ELEM_F_INTERVAL_OPEN (1).
        let openUserdata: [UInt8] = [1, 4] + withUnsafeBytes(of: UInt32(1)) { Array($0) }
        var start = 0
        while start < encoding.count {
            let end = min(start + Self.elementsPerMessage, encoding.count)
            let chunk = Self.makeSet(table: table, id: id)
            defer { nftnl_set_free(chunk) }
            encoding.keys.withUnsafeBytes { keys in
                for index in start..<end {
                    let item = nftnl_set_elem_alloc()!
                    _ = nftnl_set_elem_set(item, attribute(NFTNL_SET_ELEM_KEY), keys.baseAddress! + index * encoding.keyLength, UInt32(encoding.keyLength))
                    if encoding.intervalEnds[index] {
                        nftnl_set_elem_set_u32(item, attribute(NFTNL_SET_ELEM_FLAGS), UInt32(NFT_SET_ELEM_INTERVAL_END.rawValue))
                    }
                    if encoding.openIntervals[index] {
                        openUserdata.withUnsafeBytes { _ = nftnl_set_elem_set(item, attribute(NFTNL_SET_ELEM_USERDATA), $0.baseAddress, UInt32($0.count)) }
                    }
                    nftnl_set_elem_add(chunk, item)
                }
            }
            let elementsHeader = header(NFT_MSG_NEWSETELEM, flags(NLM_F_CREATE), describing: .set(of: description, elements: end - start))
            nftnl_set_elems_nlmsg_build_payload(elementsHeader, chunk)
            advance()
            start = end
        }
    }

    private static func makeSet(table: String, id: UInt32) -> OpaquePointer {
        let set = nftnl_set_alloc()!
        nftnl_set_set_u32(set, attribute(NFTNL_SET_FAMILY), UInt32(familyInet))
        nftnl_set_set_str(set, attribute(NFTNL_SET_TABLE), table)
        nftnl_set_set_str(set, attribute(NFTNL_SET_NAME), ExpressionEncoder.anonymousSetName)
        nftnl_set_set_u32(set, attribute(NFTNL_SET_ID), id)
        return set
    }

    private var current: UnsafeMutablePointer<CChar> {
        mnl_nlmsg_batch_current(batch).assumingMemoryBound(to: CChar.self)
    }

    private func nextSequence() -> UInt32 {
        defer { sequence += 1 }
        return sequence
    }

    private func header(_ type: nf_tables_msg_types, _ flags: UInt16, describing description: MessageDescription) -> UnsafeMutablePointer<nlmsghdr> {
        let sequence = nextSequence()
        if firstMessage == nil { firstMessage = sequence }
        descriptions.append(description)
        lastMessage = sequence
        let header = nftnl_nlmsg_build_hdr(current, messageType(type), familyInet, flags, sequence)
        lastHeader = header
        return header!
    }

    private func advance() {
        if !mnl_nlmsg_batch_next(batch) { overflowed = true }
    }
}
