import CNI

/// Strict parsing of the comma-separated lists Istio's annotations carry. Items may be padded with
/// spaces or tabs; control characters, empty items and oversized lists are errors, so nothing odd can
/// reach a rule (or an iptables-restore file) from a pod annotation.
public enum AnnotationList {
    /// More entries than this in one list is treated as a mistake, not a policy.
    public static let maximumEntries = 512
    public static let maximumValueBytes = 16 * 1024

    static func items(_ value: String, source: String) throws(InterceptionError) -> [String] {
        if value.utf8.count > maximumValueBytes {
            throw InterceptionError(source: source, value: value, problem: "value is \(value.utf8.count) bytes; at most \(maximumValueBytes) are accepted")
        }
        if value.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            throw InterceptionError(source: source, value: value, problem: "contains a newline or control character")
        }
        let trimmed = trim(value)
        if trimmed.isEmpty { return [] }
        let items = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { trim(String($0)) }
        if items.count > maximumEntries {
            throw InterceptionError(source: source, value: value, problem: "has \(items.count) entries; at most \(maximumEntries) are supported")
        }
        if let position = items.firstIndex(where: \.isEmpty) {
            throw InterceptionError(source: source, value: value, problem: "entry \(position + 1) is empty")
        }
        return items
    }

    /// `*`, or ports; with `allowWildcard` false, `*` is rejected.
    static func ports(_ value: String, source: String, allowWildcard: Bool) throws(InterceptionError) -> PortSelection {
        let entries = try items(value, source: source)
        if entries.contains("*") {
            guard allowWildcard else {
                throw InterceptionError(source: source, value: value, problem: "'*' is not allowed here; list ports explicitly")
            }
            guard entries.count == 1 else {
                throw InterceptionError(source: source, value: value, problem: "'*' cannot be combined with other entries")
            }
            return .all
        }
        var ports: [UInt16] = []
        for entry in entries {
            guard entry.unicodeScalars.allSatisfy({ (0x30...0x39).contains($0.value) }), entry.count <= 5,
                  let port = UInt32(entry), (1...65535).contains(port) else {
                throw InterceptionError(source: source, value: value, problem: "\"\(entry)\" is not a port number between 1 and 65535")
            }
            ports.append(UInt16(port))
        }
        return .ports(ports)
    }

    static func portList(_ value: String, source: String) throws(InterceptionError) -> [UInt16] {
        guard case .ports(let ports) = try ports(value, source: source, allowWildcard: false) else { return [] }
        return ports
    }

    /// `*`, or address/prefix-length entries (IPv4 or IPv6, which may be mixed).
    static func cidrs(_ value: String, source: String, allowWildcard: Bool) throws(InterceptionError) -> IPRangeSelection {
        let entries = try items(value, source: source)
        if entries.contains("*") {
            guard allowWildcard else {
                throw InterceptionError(source: source, value: value, problem: "'*' is not allowed here; list CIDRs explicitly")
            }
            guard entries.count == 1 else {
                throw InterceptionError(source: source, value: value, problem: "'*' cannot be combined with other entries")
            }
            return .all
        }
        var prefixes: [IPPrefix] = []
        for entry in entries {
            guard let prefix = IPPrefix(entry) else {
                throw InterceptionError(source: source, value: value, problem: "\"\(entry)\" is not a CIDR (address/prefix-length)")
            }
            prefixes.append(prefix.network)
        }
        return .ranges(prefixes)
    }

    /// Linux interface names; a trailing '+' matches every name with that prefix (as in iptables).
    static func interfaces(_ value: String, source: String) throws(InterceptionError) -> [String] {
        let entries = try items(value, source: source)
        for entry in entries {
            let name = entry.hasSuffix("+") ? String(entry.dropLast()) : entry
            let valid = !name.isEmpty && name.utf8.count <= 15 && name != "." && name != ".."
                && name.unicodeScalars.allSatisfy { $0.isInterfaceNameCharacter }
            guard valid else {
                throw InterceptionError(source: source, value: value,
                                        problem: "\"\(entry)\" is not an interface name (1-15 of A-Z a-z 0-9 _ . -, optionally ending in '+')")
            }
        }
        return entries
    }

    private static func trim(_ text: String) -> String {
        var scalars = Substring(text)
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}

extension Unicode.Scalar {
    fileprivate var isInterfaceNameCharacter: Bool {
        (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value)
            || self == "_" || self == "." || self == "-"
    }
}
