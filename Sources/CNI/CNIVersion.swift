/// The CNI specification versions this plugin speaks, oldest first.
public enum CNIVersion: String, CaseIterable, Comparable, Sendable {
    case v0_1_0 = "0.1.0"
    case v0_2_0 = "0.2.0"
    case v0_3_0 = "0.3.0"
    case v0_3_1 = "0.3.1"
    case v0_4_0 = "0.4.0"
    case v1_0_0 = "1.0.0"
    case v1_1_0 = "1.1.0"

    public static let latest = CNIVersion.v1_1_0

    /// The shape of a Success result in this version.
    public enum ResultShape: Sendable {
        /// 0.1.0 / 0.2.0: `ip4` / `ip6` objects, at least one IP required.
        case ipFamilies
        /// 0.3.x / 0.4.0: `interfaces`, `ips` with a `version` field, `routes`, `dns`.
        case versionedIPs
        /// 1.0.0: as 0.4.0 without `version` in `ips`.
        case unversionedIPs
        /// 1.1.0: as 1.0.0 plus interface `mtu`/`socketPath`/`pciID` and route `mtu`/`advmss`/`priority`/`table`/`scope`.
        case extendedUnversionedIPs
    }

    public var resultShape: ResultShape {
        switch self {
        case .v0_1_0, .v0_2_0: .ipFamilies
        case .v0_3_0, .v0_3_1, .v0_4_0: .versionedIPs
        case .v1_0_0: .unversionedIPs
        case .v1_1_0: .extendedUnversionedIPs
        }
    }

    public var allowsCheck: Bool { self >= .v0_4_0 }
    public var allowsStatusAndGC: Bool { self >= .v1_1_0 }

    public static var supportedList: String { allCases.map(\.rawValue).joined(separator: ", ") }

    private var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: CNIVersion, rhs: CNIVersion) -> Bool { lhs.order < rhs.order }
}
