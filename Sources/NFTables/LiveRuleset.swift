import CLibmnl
import CLibnftnl
import Glibc
import Interception

/// What the kernel holds in our tables, read back over netlink (the same dumps `nft list` uses).
struct LiveRuleset {
    struct ChainState: Equatable {
        var hook: HookChainLayout?
        var policy: UInt32?
        /// Each rule as its canonical expression list (`CanonicalRule`).
        var rules: [[String]] = []
    }

    /// table name → chain name → state
    var tables: [String: [String: ChainState]] = [:]

    /// Names of our `inet` tables present in the namespace.
    static func ourTables(_ socket: NetlinkSocket, subject: String) throws(NFTablesError) -> [String] {
        var names: [String] = []
        let ours = RuleTable.allCases.map(\.nftTableName)
        try dumpRequest(socket, NFT_MSG_GETTABLE, operation: "list tables") { header in
            let table = nftnl_table_alloc()!
            defer { nftnl_table_free(table) }
            guard nftnl_table_nlmsg_parse(header, table) == 0,
                  let name = nftnl_table_get_str(table, attribute(NFTNL_TABLE_NAME)).map({ String(cString: $0) }),
                  ours.contains(name) else { return }
            names.append(name)
        }
        return names.sorted()
    }

    static func read(_ socket: NetlinkSocket, subject: String) throws(NFTablesError) -> LiveRuleset {
        var live = LiveRuleset()
        for name in try ourTables(socket, subject: subject) { live.tables[name] = [:] }
        try dumpRequest(socket, NFT_MSG_GETCHAIN, operation: "list chains") { header in
            let chain = nftnl_chain_alloc()!
            defer { nftnl_chain_free(chain) }
            guard nftnl_chain_nlmsg_parse(header, chain) == 0,
                  let table = nftnl_chain_get_str(chain, attribute(NFTNL_CHAIN_TABLE)).map({ String(cString: $0) }),
                  let name = nftnl_chain_get_str(chain, attribute(NFTNL_CHAIN_NAME)).map({ String(cString: $0) }),
                  live.tables[table] != nil else { return }
            var state = ChainState()
            if nftnl_chain_is_set(chain, attribute(NFTNL_CHAIN_HOOKNUM)) {
                let type = nftnl_chain_get_str(chain, attribute(NFTNL_CHAIN_TYPE)).map { String(cString: $0) } ?? ""
                state.hook = HookChainLayout(hook: nftnl_chain_get_u32(chain, attribute(NFTNL_CHAIN_HOOKNUM)),
                                             priority: nftnl_chain_get_s32(chain, attribute(NFTNL_CHAIN_PRIO)), type: type)
                state.policy = nftnl_chain_get_u32(chain, attribute(NFTNL_CHAIN_POLICY))
            }
            live.tables[table]?[name] = state
        }
        let sets = try readSets(socket, tables: Set(live.tables.keys))
        try dumpRequest(socket, NFT_MSG_GETRULE, operation: "list rules") { header in
            let rule = nftnl_rule_alloc()!
            defer { nftnl_rule_free(rule) }
            guard nftnl_rule_nlmsg_parse(header, rule) == 0,
                  let table = nftnl_rule_get_str(rule, attribute(NFTNL_RULE_TABLE)).map({ String(cString: $0) }),
                  let chain = nftnl_rule_get_str(rule, attribute(NFTNL_RULE_CHAIN)).map({ String(cString: $0) }),
                  live.tables[table]?[chain] != nil else { return }
            live.tables[table]?[chain]?.rules.append(CanonicalRule.expressions(of: rule) { sets[table + " " + $0] })
        }
        return live
    }

    /// The sets of `tables` ("table set" → canonical description with their elements).
    private static func readSets(_ socket: NetlinkSocket, tables: Set<String>) throws(NFTablesError) -> [String: String] {
        var found: [(table: String, name: String, flags: UInt32, keyType: UInt32, keyLength: UInt32)] = []
        try dumpRequest(socket, NFT_MSG_GETSET, operation: "list sets") { header in
            let set = nftnl_set_alloc()!
            defer { nftnl_set_free(set) }
            guard nftnl_set_nlmsg_parse(header, set) == 0,
                  let table = nftnl_set_get_str(set, attribute(NFTNL_SET_TABLE)).map({ String(cString: $0) }),
                  let name = nftnl_set_get_str(set, attribute(NFTNL_SET_NAME)).map({ String(cString: $0) }),
                  tables.contains(table) else { return }
            found.append((table, name, nftnl_set_get_u32(set, attribute(NFTNL_SET_FLAGS)),
                          nftnl_set_get_u32(set, attribute(NFTNL_SET_KEY_TYPE)), nftnl_set_get_u32(set, attribute(NFTNL_SET_KEY_LEN))))
        }
        var sets: [String: String] = [:]
        for entry in found {
            var elements: [(key: [UInt8], intervalEnd: Bool)] = []
            let query = nftnl_set_alloc()!
            defer { nftnl_set_free(query) }
            nftnl_set_set_u32(query, attribute(NFTNL_SET_FAMILY), UInt32(familyInet))
            nftnl_set_set_str(query, attribute(NFTNL_SET_TABLE), entry.table)
            nftnl_set_set_str(query, attribute(NFTNL_SET_NAME), entry.name)
            try dumpRequest(socket, NFT_MSG_GETSETELEM, operation: "list set \(entry.name)", payload: { nftnl_set_elems_nlmsg_build_payload($0, query) }) { header in
                let reply = nftnl_set_alloc()!
                defer { nftnl_set_free(reply) }
                guard nftnl_set_elems_nlmsg_parse(header, reply) == 0, let iterator = nftnl_set_elems_iter_create(reply) else { return }
                defer { nftnl_set_elems_iter_destroy(iterator) }
                while let element = nftnl_set_elems_iter_next(iterator) {
                    var length: UInt32 = 0
                    guard let key = nftnl_set_elem_get(element, attribute(NFTNL_SET_ELEM_KEY), &length) else { continue }
                    let flags = nftnl_set_elem_is_set(element, attribute(NFTNL_SET_ELEM_FLAGS)) ? nftnl_set_elem_get_u32(element, attribute(NFTNL_SET_ELEM_FLAGS)) : 0
                    elements.append((Array(UnsafeRawBufferPointer(start: key, count: Int(length))),
                                     flags & UInt32(NFT_SET_ELEM_INTERVAL_END.rawValue) != 0))
                }
            }
            sets[entry.table + " " + entry.name] = AnonymousSetEncoding.canonicalText(flags: entry.flags, keyType: entry.keyType,
                                                                                       keyLength: entry.keyLength, elements: elements)
        }
        return sets
    }

    static func dumpRequest(_ socket: NetlinkSocket, _ type: nf_tables_msg_types, family: UInt16 = familyInet, operation: String,
                            payload: (UnsafeMutablePointer<nlmsghdr>) -> Void = { _ in },
                            _ handle: (UnsafePointer<nlmsghdr>) -> Void) throws(NFTablesError) {
        var request = [UInt8](repeating: 0, count: 1024)
        let length = request.withUnsafeMutableBytes { bytes in
            let header = nftnl_nlmsg_build_hdr(bytes.baseAddress!.assumingMemoryBound(to: CChar.self), messageType(type),
                                               family, flags(NLM_F_DUMP), UInt32(truncatingIfNeeded: time(nil)))!
            payload(header)
            return Int(header.pointee.nlmsg_len)
        }
        let outcome: Result<Void, NFTablesError> = request.withUnsafeBytes { bytes in
            do throws(NFTablesError) {
                try socket.dump(bytes.baseAddress!, length: length, operation: operation, handle)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try outcome.get()
    }
}

/// A rule reduced to the text of its expressions (libnftnl's debug form, the one `nft --debug=netlink`
/// prints) with counter values left out, so what we would write and what the kernel holds compare
/// directly.
enum CanonicalRule {
    /// `sets` describes a looked-up set by name (its elements, not the name the kernel gave it).
    static func expressions(of rule: OpaquePointer, sets: (String) -> String?) -> [String] {
        var texts: [String] = []
        guard let iterator = nftnl_expr_iter_create(rule) else { return texts }
        defer { nftnl_expr_iter_destroy(iterator) }
        var buffer = [CChar](repeating: 0, count: 1024)
        while let expression = nftnl_expr_iter_next(iterator) {
            let name = nftnl_expr_get_str(expression, attribute(NFTNL_EXPR_NAME)).map { String(cString: $0) } ?? "?"
            if name == "counter" {
                texts.append("counter")
                continue
            }
            if name == "lookup" {
                let set = nftnl_expr_get_str(expression, attribute(NFTNL_EXPR_LOOKUP_SET)).map { String(cString: $0) } ?? "?"
                let register = nftnl_expr_get_u32(expression, attribute(NFTNL_EXPR_LOOKUP_SREG))
                let flags = nftnl_expr_get_u32(expression, attribute(NFTNL_EXPR_LOOKUP_FLAGS))
                texts.append("lookup reg \(register) flags \(flags) \(sets(set) ?? "unknown set \(set)")")
                continue
            }
            let written = buffer.withUnsafeMutableBufferPointer {
                nftnl_expr_snprintf($0.baseAddress, $0.count, expression, NFTNL_OUTPUT_DEFAULT.rawValue, 0)
            }
            let text = written > 0 ? buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } : ""
            texts.append("\(name) \(text)")
        }
        return texts
    }

    static func expressions(of ir: NFTRule, table: String, chain: String, gateToIPv4: Bool) -> [String] {
        let rule = NFTBatch.makeRule(table: table, chain: chain, rule: ir, gateToIPv4: gateToIPv4)
        defer { nftnl_rule_free(rule) }
        let set = ir.set.map(\.encoding.canonicalText)
        return expressions(of: rule) { _ in set }
    }
}
