/// The operations a runtime can ask of a plugin through `CNI_COMMAND`.
public enum CNICommand: String, CaseIterable, Sendable {
    case add = "ADD"
    case delete = "DEL"
    case check = "CHECK"
    case version = "VERSION"
    case status = "STATUS"
    case garbageCollect = "GC"

    /// Environment variables the spec (and libcni's skel) require for this command.
    var requiredVariables: [String] {
        switch self {
        case .add, .check: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"]
        case .delete: ["CNI_CONTAINERID", "CNI_IFNAME"]
        case .garbageCollect: ["CNI_PATH"]
        case .version, .status: []
        }
    }
}
