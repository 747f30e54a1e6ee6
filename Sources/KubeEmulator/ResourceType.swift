/// A kind of API object the emulator serves, addressed like the real API
/// (`/api/v1/namespaces/{ns}/pods`, `/apis/apps/v1/namespaces/{ns}/daemonsets`, `/api/v1/nodes`).
public struct ResourceType: Hashable, Sendable {
    /// "api/v1" for the core group, "apis/<group>/<version>" otherwise.
    public let groupVersionPath: String
    public let plural: String
    public let kind: String
    public let namespaced: Bool

    /// Writes to the object itself leave `status` alone (it has its own `/status` endpoint).
    public var hasStatusSubresource: Bool { self == .pods || self == .nodes || self == .daemonSets || self == .namespaces }

    public var apiVersion: String {
        groupVersionPath == "api/v1" ? "v1" : String(groupVersionPath.dropFirst("apis/".count))
    }

    public static let pods = ResourceType(groupVersionPath: "api/v1", plural: "pods", kind: "Pod", namespaced: true)
    public static let events = ResourceType(groupVersionPath: "api/v1", plural: "events", kind: "Event", namespaced: true)
    public static let configMaps = ResourceType(groupVersionPath: "api/v1", plural: "configmaps", kind: "ConfigMap", namespaced: true)
    public static let nodes = ResourceType(groupVersionPath: "api/v1", plural: "nodes", kind: "Node", namespaced: false)
    public static let namespaces = ResourceType(groupVersionPath: "api/v1", plural: "namespaces", kind: "Namespace", namespaced: false)
    public static let daemonSets = ResourceType(groupVersionPath: "apis/apps/v1", plural: "daemonsets", kind: "DaemonSet", namespaced: true)

    public static let all: [ResourceType] = [.pods, .events, .configMaps, .nodes, .namespaces, .daemonSets]
}
