import Interception

/// Which iptables implementation writes the rules: the xtables `legacy` one, the `nft` one (iptables
/// syntax over nf_tables), or whatever the node's plain `iptables-restore` is.
public enum IPTablesVariant: String, Sendable, CaseIterable {
    case legacy
    case nft
    case plain

    /// `FORCE_IPTABLES_BINARY` accepts Istio's two names.
    public init?(forcedName: String) {
        switch forcedName {
        case "legacy": self = .legacy
        case "nft": self = .nft
        default: return nil
        }
    }
}

/// The restore and save executables of one variant for one family, as found on the node.
public struct IPTablesTool: Equatable, Sendable {
    public let variant: IPTablesVariant
    public let family: AddressFamily
    public let restorePath: String
    public let savePath: String

    public static func executableName(_ variant: IPTablesVariant, _ family: AddressFamily, save: Bool) -> String {
        let base = family == .ipv4 ? "iptables" : "ip6tables"
        let infix = variant == .plain ? "" : "-\(variant.rawValue)"
        return base + infix + (save ? "-save" : "-restore")
    }

    /// The name as messages show it ("iptables-legacy", "ip6tables-nft", "iptables").
    public var displayName: String {
        (family == .ipv4 ? "iptables" : "ip6tables") + (variant == .plain ? "" : "-\(variant.rawValue)")
    }

    /// The restore command line. The pod-scoped lock file is passed in the environment
    /// (`XTABLES_LOCKFILE`), so `--wait` only ever waits for another istio-cni call on the same pod.
    public var restoreArguments: [String] { [restorePath, "--noflush", "--wait", "10"] }
    public var saveArguments: [String] { [savePath] }
}

/// Istio's binary choice (reference §2.4), per family: the forced variant if any; else legacy when
/// legacy tables in this namespace already hold rules (so one namespace never mixes both); else nft;
/// else the plain name.
public enum IPTablesSelection {
    public static func choose(family: AddressFamily, forced: IPTablesVariant?, legacyHoldsRules: Bool,
                              locate: (String) -> String?) throws(IPTablesError) -> IPTablesTool {
        let candidates: [IPTablesVariant]
        if let forced {
            candidates = [forced]
        } else {
            candidates = (legacyHoldsRules ? [.legacy] : []) + [.nft, .plain]
        }
        for variant in candidates {
            if let restore = locate(IPTablesTool.executableName(variant, family, save: false)),
               let save = locate(IPTablesTool.executableName(variant, family, save: true)) {
                return IPTablesTool(variant: variant, family: family, restorePath: restore, savePath: save)
            }
        }
        let names = candidates.map { IPTablesTool.executableName($0, family, save: false) }
        throw IPTablesError("no \(names.joined(separator: " / ")) (with its -save twin) found on the node"
                            + (forced.map { " (FORCE_IPTABLES_BINARY=\($0.rawValue))" } ?? ""))
    }
}

/// A failure of the iptables backend, with what went wrong in words.
public struct IPTablesError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
