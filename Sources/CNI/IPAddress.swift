/// An IPv4 or IPv6 address parsed strictly (no leading zeros in IPv4 parts, no zones), the way Go's
/// net/netip does, so we accept exactly what the kubelet, runtimes and Istio accept.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4([UInt8])
    case v6([UInt8])

    public init?(_ text: String) {
        self.init(Substring(text))
    }

    public init?(_ text: Substring) {
        if text.utf8.contains(UInt8(ascii: ":")) {
            guard let bytes = Self.parseIPv6(Substring(text)) else { return nil }
            self = .v6(bytes)
        } else {
            guard let bytes = Self.parseIPv4(Substring(text)) else { return nil }
            self = .v4(bytes)
        }
    }

    public var bytes: [UInt8] {
        switch self {
        case .v4(let b), .v6(let b): b
        }
    }

    public var isIPv4: Bool {
        if case .v4 = self { return true }
        return false
    }

    public var bitLength: Int { isIPv4 ? 32 : 128 }

    public var isLoopback: Bool {
        switch self {
        case .v4(let b): b[0] == 127
        case .v6(let b): b == [UInt8](repeating: 0, count: 15) + [1]
        }
    }

    /// 169.254.0.0/16 or fe80::/10 (Go's `IsLinkLocalUnicast`).
    public var isLinkLocal: Bool {
        switch self {
        case .v4(let b): b[0] == 169 && b[1] == 254
        case .v6(let b): b[0] == 0xFE && b[1] & 0xC0 == 0x80
        }
    }

    public var description: String {
        switch self {
        case .v4(let b): b.map(String.init).joined(separator: ".")
        case .v6(let b): Self.formatIPv6(b)
        }
    }

    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let bytes = Array(text.utf8)
        return parseIPv4(bytes, 0..<bytes.count)
    }

    /// Four decimal parts of at most three digits, each at most 255, no leading zeros (netip's rules).
    static func parseIPv4(_ text: [UInt8], _ range: Range<Int>) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4)
        var value = 0
        var digits = 0
        for index in range {
            let byte = text[index]
            if byte == UInt8(ascii: ".") {
                guard digits > 0, bytes.count < 3 else { return nil }
                bytes.append(UInt8(value))
                value = 0
                digits = 0
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                if digits == 1, value == 0 { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 3, value <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, bytes.count == 3 else { return nil }
        bytes.append(UInt8(value))
        return bytes
    }

    static func parseIPv6(_ text: Substring) -> [UInt8]? {
        guard !text.isEmpty, !text.contains("%") else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: Substring, allowTrailingIPv4: Bool) -> [UInt8]? {
            if part.isEmpty { return [] }
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            var bytes: [UInt8] = []
            for (position, field) in fields.enumerated() {
                if allowTrailingIPv4, position == fields.count - 1, field.contains(".") {
                    guard let v4 = parseIPv4(field) else { return nil }
                    bytes += v4
                    continue
                }
                guard (1...4).contains(field.count), let value = UInt16(field, radix: 16) else { return nil }
                bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            return bytes
        }
        if halves.count == 1 {
            guard let bytes = groups(halves[0], allowTrailingIPv4: true), bytes.count == 16 else { return nil }
            return bytes
        }
        guard let head = groups(halves[0], allowTrailingIPv4: false),
              let tail = groups(halves[1], allowTrailingIPv4: true),
              head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    /// RFC 5952 text: lowercase, leading zeros dropped, the longest run of two or more zero groups as "::".
    static func formatIPv6(_ bytes: [UInt8]) -> String {
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        var bestStart = -1, bestLength = 0, runStart = -1
        for index in 0...groups.count {
            if index < groups.count, groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                if index - runStart > bestLength { bestStart = runStart; bestLength = index - runStart }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var text = ""
        var index = 0
        while index < groups.count {
            if index == bestStart {
                text += "::"
                index += bestLength
                continue
            }
            if !text.isEmpty, !text.hasSuffix(":") { text += ":" }
            text += String(groups[index], radix: 16)
            index += 1
        }
        return text
    }
}

extension Substring {
    fileprivate func components(separatedBy separator: String) -> [Substring] {
        var result: [Substring] = []
        var rest = self[...]
        while let range = rest.firstRange(of: separator) {
            result.append(rest[rest.startIndex..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        result.append(rest)
        return result
    }
}

/// An address with a prefix length ("10.0.0.0/8", "2001:db8::/32"). Host bits are kept as written in
/// `address`; `network` gives the masked form used in rules.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let length: Int

    public init?(_ text: String) {
        self.init(utf8: Array(text.utf8)[...])
    }

    /// From UTF-8 bytes (an entry of a long annotation list, parsed without making a String first).
    public init?(utf8 bytes: ArraySlice<UInt8>) {
        self.init(utf8: Array(bytes), 0..<bytes.count)
    }

    /// From `bytes[range]`, read by index.
    public init?(utf8 bytes: [UInt8], _ range: Range<Int>) {
        guard let slash = range.first(where: { bytes[$0] == UInt8(ascii: "/") }) else { return nil }
        let address: IPAddress?
        if (range.lowerBound..<slash).contains(where: { bytes[$0] == UInt8(ascii: ":") }) {
            address = IPAddress(String(decoding: bytes[range.lowerBound..<slash], as: UTF8.self))
        } else {
            address = IPAddress.parseIPv4(bytes, range.lowerBound..<slash).map(IPAddress.v4)
        }
        guard let address else { return nil }
        // 1 to 3 digits, no leading zero, at most the address's bit length.
        var length = 0
        var digits = 0
        for index in (slash + 1)..<range.upperBound {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 3, !(digits == 1 && length == 0) else { return nil }
            length = length * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        guard digits > 0, length <= address.bitLength else { return nil }
        self.address = address
        self.length = length
    }

    public init(address: IPAddress, length: Int) {
        self.address = address
        self.length = min(max(length, 0), address.bitLength)
    }

    public var isIPv4: Bool { address.isIPv4 }

    /// The prefix with host bits cleared.
    public var network: IPPrefix {
        if hasNoHostBits { return self }
        return IPPrefix(address: address.isIPv4 ? .v4(maskedBytes) : .v6(maskedBytes), length: length)
    }

    /// Whether every bit after the prefix length is zero (the usual case; checked without allocating).
    private var hasNoHostBits: Bool {
        let bytes = address.bytes
        for index in bytes.indices {
            let kept = max(0, min(8, length - index * 8))
            let hostMask: UInt8 = kept >= 8 ? 0 : 0xFF >> kept
            if bytes[index] & hostMask != 0 { return false }
        }
        return true
    }

    public var maskBytes: [UInt8] {
        (0..<(address.bitLength / 8)).map { byteIndex in
            let bitsInByte = max(0, min(8, length - byteIndex * 8))
            return bitsInByte == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsInByte))
        }
    }

    public var maskedBytes: [UInt8] { zip(address.bytes, maskBytes).map { $0 & $1 } }

    public var description: String { "\(address)/\(length)" }
}
