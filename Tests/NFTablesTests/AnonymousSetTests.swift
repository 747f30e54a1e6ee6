import CNI
import Interception
@testable import NFTables
import Testing

/// The interval elements a long list becomes: for any key, the encoded set holds it exactly when one
/// of the listed prefixes or ports does (overlapping, adjacent, duplicate and open-ended entries
/// included). The kernel oracle tests check the same encoding against what nft itself sends.
@Suite struct AnonymousSetTests {
    /// A small deterministic generator, so a failure can be replayed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state
        }
    }

    /// Whether the interval elements hold `key`: the last element at or below it starts a range.
    func holds(_ encoding: AnonymousSetEncoding, _ key: [UInt8]) -> Bool {
        var inside = false
        for index in 0..<encoding.count {
            let element = Array(encoding.key(index))
            if key.lexicographicallyPrecedes(element) { break }
            inside = !encoding.intervalEnds[index]
        }
        return inside
    }

    func bytes(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)] }

    @Test func addressIntervalsHoldExactlyTheListedPrefixes() throws {
        var generator = Generator(state: 14)
        for round in 0..<40 {
            // Addresses near each other, so that prefixes overlap and touch.
            let prefixes = (0..<Int.random(in: 17...60, using: &generator)).map { _ in
                IPPrefix(address: .v4(bytes(0xC612_0000 | UInt32.random(in: 0...0x3FF, using: &generator) << 4)),
                         length: Int.random(in: 20...32, using: &generator)).network
            } + (round % 5 == 0 ? [IPPrefix("255.255.255.0/24")!] : []) + (round % 7 == 0 ? [IPPrefix("0.0.0.0/8")!] : [])
            let encoding = AnonymousSetEncoding(.addresses(.ipv4, prefixes))
            for _ in 0..<500 {
                let probe = round % 5 == 0 && Bool.random(using: &generator) ? 0xFFFF_FF00 | UInt32.random(in: 0...255, using: &generator)
                    : 0xC612_0000 | UInt32.random(in: 0...0x3FFF, using: &generator)
                let key = bytes(probe)
                let expected = prefixes.contains { prefix in
                    zip(key, prefix.maskBytes).map { $0 & $1 } == prefix.maskedBytes
                }
                #expect(holds(encoding, key) == expected, "round \(round), probe \(key)")
            }
            let keys = (0..<encoding.count).map { Array(encoding.key($0)) }
            #expect(zip(keys, keys.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) }, "keys strictly increase")
        }
    }

    @Test func portsBecomeRangesOfConsecutivePorts() throws {
        let ports: [UInt16] = [80, 81, 82, 443, 443, 8080, 65535, 0, 1]
        #expect(FoldedSet.portRanges(ports) == [0...1, 80...82, 443...443, 8080...8080, 65535...65535])
        let encoding = AnonymousSetEncoding(.ports(ports))
        for port in [0, 1, 2, 79, 80, 82, 83, 443, 444, 8080, 65534, 65535] as [UInt16] {
            #expect(holds(encoding, [UInt8(port >> 8), UInt8(port & 0xFF)]) == ports.contains(port), "port \(port)")
        }
        #expect(encoding.openIntervals.last == true, "65535 runs to the last key: no end element, marked open")
    }

    @Test func ipv6IntervalsCoverWholePrefixes() throws {
        let prefixes = ["2001:db8::/48", "2001:db8:0:1::/64", "2001:db8:1::/48", "ff00::/8"].map { IPPrefix($0)! }
        let encoding = AnonymousSetEncoding(.addresses(.ipv6, prefixes))
        func key(_ text: String) -> [UInt8] { IPAddress(text)!.bytes }
        #expect(holds(encoding, key("2001:db8::1")) && holds(encoding, key("2001:db8:1:ffff::1")) && holds(encoding, key("ffff::1")))
        #expect(!holds(encoding, key("2001:db8:2::1")) && !holds(encoding, key("::1")) && !holds(encoding, key("fe80::1")))
        #expect(encoding.count == 4, "a leading end at ::, one merged range 2001:db8::-2001:db8:1:ffff…, its end, and ff00::/8 open")
    }
}
