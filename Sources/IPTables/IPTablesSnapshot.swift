/// One family's `iptables-save` output, parsed: per table, its chains and each chain's rules in order
/// (each rule as the text after `-A CHAIN `, which is `IPTablesSaveForm`'s form).
public struct IPTablesSnapshot: Equatable, Sendable {
    public struct Table: Equatable, Sendable {
        /// Chains in the order `iptables-save` declares them (built-in chains first).
        public var chains: [String] = []
        public var rules: [String: [String]] = [:]

        public init(chains: [String] = [], rules: [String: [String]] = [:]) {
            self.chains = chains
            self.rules = rules
        }

        public func rules(in chain: String) -> [String] { rules[chain] ?? [] }
    }

    public var tables: [String: Table] = [:]

    public init(tables: [String: Table] = [:]) {
        self.tables = tables
    }

    /// Parses `iptables-save` output. Lines it does not know (comments, counters) are skipped.
    public init(parsing text: String) {
        var current: String?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("*") {
                let name = String(line.dropFirst()).trimmed
                current = name
                tables[name] = Table()
            } else if let name = current, line.hasPrefix(":") {
                let chain = String(line.dropFirst().prefix { $0 != " " })
                tables[name]?.chains.append(chain)
            } else if let name = current, line.hasPrefix("-A ") {
                let rest = line.dropFirst(3)
                let chain = String(rest.prefix { $0 != " " })
                let specification = String(rest.dropFirst(chain.count)).trimmed
                tables[name]?.rules[chain, default: []].append(specification)
            } else if line == "COMMIT" {
                current = nil
            }
        }
    }

    /// Istio's chains (`ISTIO_*`) in the tables Istio uses, as "table CHAIN".
    public var istioChains: [String] {
        IPTablesNames.istioTables.flatMap { table in
            (tables[table]?.chains ?? []).filter(IPTablesNames.isIstioChain).map { "\(table) \($0)" }
        }
    }

    /// Rules anywhere that jump to one of Istio's chains, as "table CHAIN spec".
    public var jumpsIntoIstioChains: [String] {
        IPTablesNames.istioTables.flatMap { table -> [String] in
            guard let state = tables[table] else { return [] }
            return state.chains.flatMap { chain in
                state.rules(in: chain).filter(IPTablesNames.jumpsIntoIstioChain).map { "\(table) \(chain) \($0)" }
            }
        }
    }
}

/// Names Istio's iptables rules use.
public enum IPTablesNames {
    public static let istioTables = ["mangle", "nat", "raw"]
    public static let hookChains = ["PREROUTING", "OUTPUT"]

    public static func isIstioChain(_ name: String) -> Bool { name.hasPrefix("ISTIO_") }

    static func jumpsIntoIstioChain(_ specification: String) -> Bool {
        let words = specification.split(separator: " ")
        guard let target = words.firstIndex(of: "-j"), target + 1 < words.count else { return false }
        return isIstioChain(String(words[target + 1]))
    }
}

extension String {
    var trimmed: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}

extension Substring {
    var trimmed: String { String(self).trimmed }
}
