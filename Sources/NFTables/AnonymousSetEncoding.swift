import CLibnftnl
import CNI
import Interception

/// The kernel's view of a folded rule's set: what `nft` itself sends for `tcp dport { 80-90, 443 }`
/// and `ip daddr { … }` (checked by the oracle tests): a constant anonymous interval set whose
/// overlapping and adjacent entries are merged first (the kernel refuses overlapping intervals).
/// Keys are worked out as integers and kept in one flat buffer: a list of 10,000 CIDRs should not
/// cost tens of thousands of small allocations on the ADD path.
struct AnonymousSetEncoding: Equatable {
    let flags: UInt32
    let keyType: UInt32
    let keyLength: Int
    /// Every element's key, big-endian, `keyLength` bytes each.
    let keys: [UInt8]
    /// Per element: NFT_SET_ELEM_INTERVAL_END on the first key after a range.
    let intervalEnds: [Bool]
    /// Per element: a range that runs to the last key has no end element; nft marks its start so
    /// that listings print it as a prefix.
    let openIntervals: [Bool]

    var count: Int { intervalEnds.count }

    /// nft's datatype numbers, which listings use to print the keys.
    private static let inetServiceType: UInt32 = 13
    private static let ipv4AddressType: UInt32 = 7
    private static let ipv6AddressType: UInt32 = 8

    /// A key as a 128-bit number, so ports, IPv4 and IPv6 addresses share one interval computation.
    private struct Key: Comparable {
        var high: UInt64
        var low: UInt64

        static func < (a: Key, b: Key) -> Bool { a.high != b.high ? a.high < b.high : a.low < b.low }

        /// The next key within `width` bytes, or nil after the last one.
        func successor(width: Int) -> Key? {
            let last = Key.last(width: width)
            guard self != last else { return nil }
            return low == .max ? Key(high: high + 1, low: 0) : Key(high: high, low: low + 1)
        }

        static func last(width: Int) -> Key {
            width >= 16 ? Key(high: .max, low: .max) : Key(high: 0, low: (UInt64(1) << (UInt64(width) * 8)) - 1)
        }

        init(high: UInt64, low: UInt64) {
            self.high = high
            self.low = low
        }

        init(bytes: [UInt8]) {
            var high: UInt64 = 0, low: UInt64 = 0
            for (index, byte) in bytes.enumerated() {
                if bytes.count - index > 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
            }
            self.init(high: high, low: low)
        }

        func append(to buffer: inout [UInt8], width: Int) {
            for index in 0..<width {
                let shift = UInt64(width - 1 - index) * 8
                buffer.append(shift >= 64 ? UInt8(truncatingIfNeeded: high >> (shift - 64)) : UInt8(truncatingIfNeeded: low >> shift))
            }
        }
    }

    init(_ set: FoldedSet.Elements) {
        flags = UInt32(NFT_SET_ANONYMOUS.rawValue | NFT_SET_CONSTANT.rawValue | NFT_SET_INTERVAL.rawValue)
        var ranges: [(first: Key, last: Key)] = []
        switch set {
        case .ports(let ports):
            keyType = Self.inetServiceType
            keyLength = 2
            ranges = ports.map { (Key(high: 0, low: UInt64($0)), Key(high: 0, low: UInt64($0))) }
        case .addresses(let family, let prefixes):
            keyType = family == .ipv4 ? Self.ipv4AddressType : Self.ipv6AddressType
            keyLength = family == .ipv4 ? 4 : 16
            ranges.reserveCapacity(prefixes.count)
            for prefix in prefixes {
                let first = Key(bytes: prefix.address.bytes)
                let hostBits = keyLength * 8 - prefix.length
                var masked = first, last = first
                if hostBits >= 64 {
                    masked = Key(high: hostBits >= 128 ? 0 : first.high & ~((UInt64(1) << UInt64(hostBits - 64)) - 1), low: 0)
                    last = Key(high: hostBits >= 128 ? .max : masked.high | ((UInt64(1) << UInt64(hostBits - 64)) - 1), low: .max)
                } else if hostBits > 0 {
                    let mask = (UInt64(1) << UInt64(hostBits)) - 1
                    masked = Key(high: first.high, low: first.low & ~mask)
                    last = Key(high: first.high, low: masked.low | mask)
                }
                ranges.append((masked, last))
            }
        }
        (keys, intervalEnds, openIntervals) = Self.intervals(ranges, width: keyLength)
    }

    /// The ranges merged, as interval elements: a leading end element at zero when the first range
    /// does not start there, then each range's start and the end element one past its last key.
    private static func intervals(_ unsorted: [(first: Key, last: Key)], width: Int) -> ([UInt8], [Bool], [Bool]) {
        let sorted = unsorted.sorted { $0.first < $1.first }
        var merged: [(first: Key, last: Key)] = []
        merged.reserveCapacity(sorted.count)
        for range in sorted {
            guard let previous = merged.last else {
                merged.append(range)
                continue
            }
            // A range that already runs to the last key covers everything after it.
            guard let after = previous.last.successor(width: width) else { continue }
            if range.first <= after {
                if previous.last < range.last { merged[merged.count - 1].last = range.last }
            } else {
                merged.append(range)
            }
        }
        var keys: [UInt8] = []
        var ends: [Bool] = []
        var open: [Bool] = []
        keys.reserveCapacity((2 * merged.count + 1) * width)
        if let first = merged.first, first.first != Key(high: 0, low: 0) {
            Key(high: 0, low: 0).append(to: &keys, width: width)
            ends.append(true)
            open.append(false)
        }
        for range in merged {
            let after = range.last.successor(width: width)
            range.first.append(to: &keys, width: width)
            ends.append(false)
            open.append(after == nil)
            if let after {
                after.append(to: &keys, width: width)
                ends.append(true)
                open.append(false)
            }
        }
        return (keys, ends, open)
    }

    func key(_ index: Int) -> ArraySlice<UInt8> {
        keys[(index * keyLength)..<((index + 1) * keyLength)]
    }

    /// A comparable description of the set and its content, for CHECK.
    var canonicalText: String {
        Self.canonicalText(flags: flags, keyType: keyType, keyLength: UInt32(keyLength),
                           elements: (0..<count).map { (Array(key($0)), intervalEnds[$0]) })
    }

    /// The same description for a set read back from the kernel (which keeps its own element order).
    static func canonicalText(flags: UInt32, keyType: UInt32, keyLength: UInt32, elements: [(key: [UInt8], intervalEnd: Bool)]) -> String {
        let keys = elements.map { hex($0.key) + ($0.intervalEnd ? "/end" : "") }.sorted()
        return "set flags \(flags) key \(keyType)/\(keyLength) {\(keys.joined(separator: ","))}"
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes { text += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]] }
        return String(decoding: text, as: UTF8.self)
    }
}
