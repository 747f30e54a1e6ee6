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

    /// A list's entries: the value's UTF-8 bytes and each trimmed entry's range in them (ranges, not
    /// slices, so that parsing 10,000 entries does not retain and release the buffer 10,000 times).
    struct Entries {
        let bytes: [UInt8]
        let ranges: [Range<Int>]

        subscript(index: Int) -> ArraySlice<UInt8> { bytes[ranges[index]] }
        var slices: [ArraySlice<UInt8>] { ranges.map { bytes[$0] } }
        var isWildcard: Bool { ranges.count == 1 && ranges[0].count == 1 && bytes[ranges[0].lowerBound] == UInt8(ascii: "*") }
        var containsWildcard: Bool { ranges.contains { $0.count == 1 && bytes[$0.lowerBound] == UInt8(ascii: "*") } }
    }

    /// The list's entries, each trimmed. `keepingEmpty` drops empty entries (as Istio's owner-group
    /// parsing does) instead of refusing them.
    static func entries(_ value: String, source: String, keepingEmpty: Bool = false) throws(InterceptionError) -> Entries {
        let bytes = Array(value.utf8)
        if bytes.count > maximumValueBytes {
            throw InterceptionError(source: source, value: value, problem: "value is \(bytes.count) bytes; at most \(maximumValueBytes) are accepted")
        }
        let whole = trim(bytes, 0..<bytes.count)
        if whole.isEmpty { return Entries(bytes: bytes, ranges: []) }
        var ranges: [Range<Int>] = []
        var commas = 0
        for index in whole where bytes[index] == UInt8(ascii: ",") { commas += 1 }
        ranges.reserveCapacity(commas + 1)
        var position = 0
        var start = whole.lowerBound
        for index in whole.lowerBound...whole.upperBound where index == whole.upperBound || bytes[index] == UInt8(ascii: ",") {
            position += 1
            let entry = trim(bytes, start..<index)
            start = index + 1
            if !entry.isEmpty {
                ranges.append(entry)
            } else if !keepingEmpty {
                throw InterceptionError(source: source, value: value, problem: "entry \(position) is empty")
            }
        }
        // Entries with non-ASCII whitespace at an end were trimmed by scalar into new bytes.
        guard ranges.contains(where: { bytes[$0.lowerBound] >= 0x80 || bytes[$0.upperBound - 1] >= 0x80 }) else {
            return Entries(bytes: bytes, ranges: ranges)
        }
        var rebuilt: [UInt8] = []
        var rebuiltRanges: [Range<Int>] = []
        for range in ranges {
            let trimmed = trimUnicode(bytes[range])
            guard !trimmed.isEmpty || keepingEmpty else {
                throw InterceptionError(source: source, value: value, problem: "an entry holds only whitespace")
            }
            if trimmed.isEmpty { continue }
            rebuiltRanges.append(rebuilt.count..<(rebuilt.count + trimmed.count))
            rebuilt += trimmed
        }
        return Entries(bytes: rebuilt, ranges: rebuiltRanges)
    }

    static func items(_ value: String, source: String, keepingEmpty: Bool = false) throws(InterceptionError) -> [ArraySlice<UInt8>] {
        try entries(value, source: source, keepingEmpty: keepingEmpty).slices
    }

    static func text(_ entry: ArraySlice<UInt8>) -> String {
        String(decoding: entry, as: UTF8.self)
    }

    /// `*`, or ports; with `allowWildcard` false, `*` is rejected.
    static func ports(_ value: String, source: String, allowWildcard: Bool) throws(InterceptionError) -> PortSelection {
        let entries = try entries(value, source: source)
        if try isWildcard(entries, value: value, source: source, allowed: allowWildcard, kind: "ports") { return .all }
        var ports: [UInt16] = []
        ports.reserveCapacity(entries.ranges.count)
        for range in entries.ranges {
            guard let port = decimal(entries.bytes, range, maximum: UInt32(UInt16.max)) else {
                throw InterceptionError(source: source, value: value, problem: "\"\(text(entries.bytes[range]))\" is not a port number between 0 and 65535")
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
        let entries = try entries(value, source: source)
        if try isWildcard(entries, value: value, source: source, allowed: allowWildcard, kind: "CIDRs") { return .all }
        var prefixes: [IPPrefix] = []
        prefixes.reserveCapacity(entries.ranges.count)
        for range in entries.ranges {
            guard let prefix = IPPrefix(utf8: entries.bytes, range) else {
                throw InterceptionError(source: source, value: value, problem: "\"\(text(entries.bytes[range]))\" is not a CIDR (address/prefix-length)")
            }
            prefixes.append(prefix.network)
        }
        return .ranges(prefixes)
    }

    /// Whether the list is `*` alone; `*` with other entries, or where it is not allowed, is an error.
    private static func isWildcard(_ entries: Entries, value: String, source: String, allowed: Bool,
                                   kind: String) throws(InterceptionError) -> Bool {
        guard entries.containsWildcard else { return false }
        guard allowed else {
            throw InterceptionError(source: source, value: value, problem: "'*' is not allowed here; list \(kind) explicitly")
        }
        guard entries.isWildcard else {
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
    static func decimal(_ bytes: [UInt8], _ range: Range<Int>, maximum: UInt32) -> UInt32? {
        guard !range.isEmpty else { return nil }
        var value: UInt32 = 0
        for index in range {
            let byte = bytes[index]
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times10.addingReportingOverflow(UInt32(byte - 0x30))
            guard !overflow, !carry, sum <= maximum else { return nil }
            value = sum
        }
        return value
    }

    static func decimal(_ digits: ArraySlice<UInt8>, maximum: UInt32) -> UInt32? {
        decimal(Array(digits), 0..<digits.count, maximum: maximum)
    }

    /// `range` without leading and trailing ASCII whitespace.
    private static func trim(_ bytes: [UInt8], _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound, upper = range.upperBound
        while lower < upper, isASCIIWhitespace(bytes[lower]) { lower += 1 }
        while upper > lower, isASCIIWhitespace(bytes[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    /// Drops leading and trailing Unicode whitespace (U+00A0, U+2003, …), as Go's `strings.TrimSpace`
    /// does; only entries with non-ASCII bytes at an end get here.
    private static func trimUnicode(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var scalars = String(decoding: bytes, as: UTF8.self).unicodeScalars[...]
        while let first = scalars.first, first.properties.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars = scalars.dropLast() }
        return Array(String(scalars).utf8)
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
