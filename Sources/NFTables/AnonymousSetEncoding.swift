import CLibnftnl
import CNI
import Interception

/// The kernel's view of a folded rule's set: what `nft` itself sends for `tcp dport { … }` and
/// `ip daddr { … }` (checked by the oracle tests): a constant anonymous set, ports as a hash of 2-byte
/// keys, addresses as an interval set whose overlapping and adjacent prefixes are merged first (the
/// kernel refuses overlapping intervals).
struct AnonymousSetEncoding: Equatable {
    struct Element: Equatable {
        let key: [UInt8]
        /// NFT_SET_ELEM_INTERVAL_END on the first address after a range.
        let intervalEnd: Bool
        /// A range that runs to the last address has no end element; nft marks its start so that
        /// listings print it as a prefix.
        let openInterval: Bool
    }

    let flags: UInt32
    let keyType: UInt32
    let keyLength: UInt32
    let elements: [Element]

    /// nft's datatype numbers, which listings use to print the keys.
    private static let inetServiceType: UInt32 = 13
    private static let ipv4AddressType: UInt32 = 7
    private static let ipv6AddressType: UInt32 = 8

    init(_ set: FoldedSet.Elements) {
        let constant = UInt32(NFT_SET_ANONYMOUS.rawValue | NFT_SET_CONSTANT.rawValue)
        switch set {
        case .ports(let ports):
            flags = constant
            keyType = Self.inetServiceType
            keyLength = 2
            elements = ports.map { Element(key: [UInt8($0 >> 8), UInt8($0 & 0xFF)], intervalEnd: false, openInterval: false) }
        case .addresses(let family, let prefixes):
            flags = constant | UInt32(NFT_SET_INTERVAL.rawValue)
            keyType = family == .ipv4 ? Self.ipv4AddressType : Self.ipv6AddressType
            keyLength = family == .ipv4 ? 4 : 16
            elements = Self.intervals(prefixes, width: Int(keyLength))
        }
    }

    /// Ranges [first, last] of the prefixes, merged, as interval elements: a leading end element at
    /// zero when the first range does not start there, then each range's start and the end element
    /// one past its last address.
    private static func intervals(_ prefixes: [IPPrefix], width: Int) -> [Element] {
        var ranges = prefixes.map { prefix -> (first: [UInt8], last: [UInt8]) in
            let first = prefix.maskedBytes
            let last = zip(first, prefix.maskBytes).map { $0 | ~$1 }
            return (first, last)
        }.sorted { $0.first.lexicographicallyPrecedes($1.first) }
        var merged: [(first: [UInt8], last: [UInt8])] = []
        for range in ranges {
            guard let previous = merged.last else {
                merged.append(range)
                continue
            }
            // A range that already runs to the last address covers everything after it.
            guard let after = successor(previous.last) else { continue }
            if range.first.lexicographicallyPrecedes(after) || range.first == after {
                if previous.last.lexicographicallyPrecedes(range.last) { merged[merged.count - 1].last = range.last }
            } else {
                merged.append(range)
            }
        }
        ranges = merged
        var elements: [Element] = []
        let zero = [UInt8](repeating: 0, count: width)
        if let first = ranges.first, first.first != zero {
            elements.append(Element(key: zero, intervalEnd: true, openInterval: false))
        }
        for range in ranges {
            let after = successor(range.last)
            elements.append(Element(key: range.first, intervalEnd: false, openInterval: after == nil))
            if let after { elements.append(Element(key: after, intervalEnd: true, openInterval: false)) }
        }
        return elements
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes { text += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]] }
        return String(decoding: text, as: UTF8.self)
    }

    /// The next address, or nil after the last one.
    private static func successor(_ bytes: [UInt8]) -> [UInt8]? {
        var next = bytes
        for index in next.indices.reversed() {
            if next[index] == 0xFF {
                next[index] = 0
            } else {
                next[index] += 1
                return next
            }
        }
        return nil
    }

    /// A comparable description of the set and its content, for CHECK.
    var canonicalText: String {
        Self.canonicalText(flags: flags, keyType: keyType, keyLength: keyLength, elements: elements.map { ($0.key, $0.intervalEnd) })
    }

    /// The same description for a set read back from the kernel (which keeps its own element order).
    static func canonicalText(flags: UInt32, keyType: UInt32, keyLength: UInt32, elements: [(key: [UInt8], intervalEnd: Bool)]) -> String {
        let keys = elements.map { hex($0.key) + ($0.intervalEnd ? "/end" : "") }.sorted()
        return "set flags \(flags) key \(keyType)/\(keyLength) {\(keys.joined(separator: ","))}"
    }
}
