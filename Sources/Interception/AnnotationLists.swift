import CNI

/// Strict parsing of the comma-separated lists Istio's annotations carry. Items may be padded with
/// whitespace (Istio trims port and interface items the same way); empty items and anything that does
/// not parse as what the list holds are errors, so nothing odd can reach a rule (or an
/// iptables-restore file) from a pod annotation. Rules are built from the parsed values, never from
/// the text.
public enum AnnotationList {
    /// Kubernetes caps all of an object's annotations together at 256 KiB, so no single value that
    /// reached the API server is longer; lists have no entry limit of their own.
    public static let maximumValueBytes = 256 * 1024

    static func items(_ value: String, source: String, keepingEmpty: Bool = false) throws(InterceptionError) -> [String] {
        if value.utf8.count > maximumValueBytes {
            throw InterceptionError(source: source, value: value, problem: "value is \(value.utf8.count) bytes; at most \(maximumValueBytes) are accepted")
        }
        let trimmed = trim(Substring(value))
        if trimmed.isEmpty { return [] }
        var items: [String] = []
        for (position, item) in trimmed.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let entry = trim(item)
            if entry.isEmpty {
                if keepingEmpty { continue }
                throw InterceptionError(source: source, value: value, problem: "entry \(position + 1) is empty")
            }
            items.append(String(entry))
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
        ports.reserveCapacity(entries.count)
        for entry in entries {
            guard let port = decimal(entry, maximum: UInt32(UInt16.max)) else {
                throw InterceptionError(source: source, value: value, problem: "\"\(entry)\" is not a port number between 0 and 65535")
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

    /// A base-10 number of ASCII digits, any number of leading zeros included (Go's
    /// `strconv.ParseUint(s, 10, …)`, which Istio validates ports with), up to `maximum`.
    static func decimal(_ text: String, maximum: UInt32) -> UInt32? {
        var value: UInt32 = 0
        var digits = 0
        for byte in text.utf8 {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times10.addingReportingOverflow(UInt32(byte - 0x30))
            guard !overflow, !carry, sum <= maximum else { return nil }
            value = sum
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    /// Drops leading and trailing Unicode whitespace, as Go's `strings.TrimSpace` does.
    private static func trim(_ text: Substring) -> Substring {
        var scalars = text.unicodeScalars[...]
        while let first = scalars.first, first.properties.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars = scalars.dropLast() }
        return Substring(scalars)
    }
}

extension Unicode.Scalar {
    fileprivate var isInterfaceNameCharacter: Bool {
        (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value)
            || self == "_" || self == "." || self == "-"
    }
}
