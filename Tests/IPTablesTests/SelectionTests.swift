import IPTables
import Interception
import Testing

/// Istio's iptables binary choice, against a fake set of binaries on the node.
@Suite struct SelectionTests {
    static func node(_ names: [String]) -> @Sendable (String) -> String? {
        { name in names.contains(name) ? "/usr/sbin/\(name)" : nil }
    }

    static let debian: @Sendable (String) -> String? = node(["iptables-legacy-restore", "iptables-legacy-save", "iptables-nft-restore", "iptables-nft-save",
                              "iptables-restore", "iptables-save", "ip6tables-nft-restore", "ip6tables-nft-save"])

    @Test func nftUnlessLegacyAlreadyHoldsRules() throws {
        #expect(try IPTablesSelection.choose(family: .ipv4, forced: nil, legacyHoldsRules: false, locate: Self.debian).variant == .nft)
        #expect(try IPTablesSelection.choose(family: .ipv4, forced: nil, legacyHoldsRules: true, locate: Self.debian).variant == .legacy)
        let tool = try IPTablesSelection.choose(family: .ipv6, forced: nil, legacyHoldsRules: false, locate: Self.debian)
        #expect(tool.restorePath == "/usr/sbin/ip6tables-nft-restore" && tool.savePath == "/usr/sbin/ip6tables-nft-save")
        #expect(tool.displayName == "ip6tables-nft")
    }

    @Test func forcedVariantWinsAndMustExist() throws {
        #expect(try IPTablesSelection.choose(family: .ipv4, forced: .legacy, legacyHoldsRules: false, locate: Self.debian).variant == .legacy)
        #expect {
            try IPTablesSelection.choose(family: .ipv6, forced: .legacy, legacyHoldsRules: false, locate: Self.debian)
        } throws: { error in
            "\(error)" == "no ip6tables-legacy-restore (with its -save twin) found on the node (FORCE_IPTABLES_BINARY=legacy)"
        }
    }

    @Test func plainNamesAreTheLastResort() throws {
        let old = Self.node(["iptables-restore", "iptables-save"])
        #expect(try IPTablesSelection.choose(family: .ipv4, forced: nil, legacyHoldsRules: true, locate: old).variant == .plain)
        #expect(throws: IPTablesError.self) { try IPTablesSelection.choose(family: .ipv4, forced: nil, legacyHoldsRules: false, locate: Self.node([])) }
    }

    @Test func restoreNeverFlushesAndWaitsOnlyForItsOwnLock() throws {
        let tool = try IPTablesSelection.choose(family: .ipv4, forced: nil, legacyHoldsRules: false, locate: Self.debian)
        #expect(tool.restoreArguments == ["/usr/sbin/iptables-nft-restore", "--noflush", "--wait", "10"])
    }
}
