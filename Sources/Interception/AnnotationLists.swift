import CNI

/// Strict parsing of the comma-separated lists Istio's annotations carry. Items may be padded with
/// whitespace (Istio trims port and interface items the same way); empty items and anything that does
/// not parse as what the list holds are errors, so nothing odd can reach a rule (or an
/// iptables-restore file) from a pod annotation. Rules are built from the parsed values, never from
/// the text. Lists are scanned as bytes: an annotation may hold tens of thousands of entries, and
/// each ADD parses it.
public enum AnnotationList {
    /// Kubernetes caps all of an object's annotations together at 256 KiB, so no single value that
    /// reached the API server is longer; lists have no entry limit of their own.
    public static let maximumValueBytes = 256 * 1024

    /// The list's entries as UTF-8 bytes, each trimmed. `keepingEmpty` drops empty entries (as Istio's
    /// owner-group parsing does) instead of refusing them.
    static func items(_ value: String, source: String, keepingEmpty: Bool = false) throws(InterceptionError) -> [ArraySlice<UInt8>] {
        let bytes = Array(value.utf8)
        if bytes.count > maximumValueBytes {
            throw InterceptionError(source: source, value: value, problem: "value is \(bytes.count) bytes; at most \(maximumValueBytes) are accepted")
        }
        let whole = trim(bytes[...])
        if whole.isEmpty { return [] }
        var items: [ArraySlice<UInt8>] = []
        items.reserveCapacity(whole.reduce(1) { $1 == UInt8(ascii: ",") ? $0 + 1 : $0 })
        var position = 0
        var start = whole.startIndex
        for index in whole.startIndex...whole.endIndex where index == whole.endIndex || whole[index] == UInt8(ascii: ",") {
            position += 1
            let entry = trim(whole[start..<index])
            start = index + 1
            if !entry.isEmpty {
                items.append(entry)
            } else if !keepingEmpty {
                throw InterceptionError(source: source, value: value, problem: "entry \(position) is empty")
            }
        }
        return items
    }

    static func text(_ entry: ArraySlice<UInt8>) -> String {
        String(decoding: entry, as: UTF8.self)
    }

    private static let wildcard: ArraySlice<UInt8> = [UInt8(ascii: "*")]

    /// `*`, or ports; with `allowWildcard` false, `*` is rejected.
    static func ports(_ value: String, source: String, allowWildcard: Bool) throws(InterceptionError) -> PortSelection {
        let entries = try items(value, source: source)
        if try isWildcard(entries, value: value, source: source, allowed: allowWildcard, kind: "ports") { return .all }
        var ports: [UInt16] = []
        ports.reserveCapacity(entries.count)
        for entry in entries {
            guard let port = decimal(entry, maximum: UInt32(UInt16.max)) else {
                throw InterceptionError(source: source, value: value, problem: "\"\(text(entry))\" is not a port number between 0 and 65535")
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
        if try isWildcard(entries, value: value, source: source, allowed: allowWildcard, kind: "CIDRs") { return .all }
        var prefixes: [IPPrefix] = []
        prefixes.reserveCapacity(entries.count)
        for entry in entries {
            guard let prefix = IPPrefix(utf8: entry) else {
                throw InterceptionError(source: source, value: value, problem: "\"\(text(entry))\" is not a CIDR (address/prefix-length)")
            }
            prefixes.append(prefix.network)
        }
        return .ranges(prefixes)
    }

    /// Whether the list is `*` alone; `*` with other entries, or where it is not allowed, is an error.
    private static func isWildcard(_ entries: [ArraySlice<UInt8>], value: String, source: String, allowed: Bool,
                                   kind: String) throws(InterceptionError) -> Bool {
        guard entries.contains(wildcard) else { return false }
        guard allowed else {
            throw InterceptionError(source: source, value: value, problem: "'*' is not allowed here; list \(kind) explicitly")
        }
        guard entries.count == 1 else {
            throw InterceptionError(source: source, value: value, problem: "'*' cannot be combined with other entries")
        }
        return true
    }

    /// Linux interface names; a trailing '+' matches every name with that prefix (as in iptables).
    static func interfaces(_ value: String, source: String) throws(InterceptionError) -> [String] {
        let entries = try items(value, source: source).map(text)
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
    static func decimal(_ digits: ArraySlice<UInt8>, maximum: UInt32) -> UInt32? {
        guard !digits.isEmpty else { return nil }
        var value: UInt32 = 0
        for byte in digits {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times10.addingReportingOverflow(UInt32(byte - 0x30))
            guard !overflow, !carry, sum <= maximum else { return nil }
            value = sum
        }
        return value
    }

    /// Drops leading and trailing Unicode whitespace, as Go's `strings.TrimSpace` does. Entries are
    /// nearly always ASCII without padding, so that case is decided on the first and last byte.
    private static func trim(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var trimmed = bytes
        while let first = trimmed.first, first < 0x80, isASCIIWhitespace(first) { trimmed = trimmed.dropFirst() }
        while let last = trimmed.last, last < 0x80, isASCIIWhitespace(last) { trimmed = trimmed.dropLast() }
        guard let first = trimmed.first, let last = trimmed.last, first >= 0x80 || last >= 0x80 else { return trimmed }
        // Non-ASCII at an end (U+00A0, U+2003, …): decode only then.
        var scalars = String(decoding: trimmed, as: UTF8.self).unicodeScalars[...]
        while let first = scalars.first, first.properties.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars = scalars.dropLast() }
        return Array(String(scalars).utf8)[...]
    }

    private static func isASCIIWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }
}

extension Unicode.Scalar {
    fileprivate var isInterfaceNameCharacter: Bool {
        (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value)
            || self == "_" || self == "." || self == "-"
    }
}
