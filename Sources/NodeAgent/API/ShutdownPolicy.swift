import JSON

/// What SIGTERM means for the files on the node. Removing the plugin while pods still start or stop
/// wedges them ("failed to find plugin istio-cni"), so the agent keeps everything in place unless it is
/// sure its DaemonSet is going away: a rolling update, a drain or a restart all leave the DaemonSet in
/// place, and a new agent pod takes over the same files.
public struct ShutdownPolicy: Sendable {
    public enum Decision: Sendable, Equatable {
        case keep(String)
        case uninstall(String)
    }

    let api: KubeAPI?
    let podNamespace: String?
    let podName: String?

    public func decide() async -> Decision {
        guard let api else { return .keep("no API access to ask whether the DaemonSet is being deleted") }
        guard let podNamespace, let podName else { return .keep("POD_NAME/POD_NAMESPACE are not set, so the owning DaemonSet is unknown") }
        let pod: JSONValue
        do {
            pod = try await api.request(.GET, "/api/v1/namespaces/\(podNamespace)/pods/\(podName)", timeout: 5)
        } catch {
            return .keep("could not read our pod \(podNamespace)/\(podName) (\(error))")
        }
        let owners = pod["metadata"]?["ownerReferences"]?.arrayValue ?? []
        guard let owner = owners.first(where: { $0["kind"]?.stringValue == "DaemonSet" })?["name"]?.stringValue else {
            return .keep("our pod has no DaemonSet owner")
        }
        do {
            let daemonSet = try await api.request(.GET, "/apis/apps/v1/namespaces/\(podNamespace)/daemonsets/\(owner)", timeout: 5)
            if daemonSet["metadata"]?["deletionTimestamp"]?.stringValue != nil {
                return .uninstall("DaemonSet \(podNamespace)/\(owner) is being deleted")
            }
            return .keep("DaemonSet \(podNamespace)/\(owner) still exists (rolling update, drain or restart)")
        } catch where error.isNotFound {
            return .uninstall("DaemonSet \(podNamespace)/\(owner) was deleted")
        } catch {
            return .keep("could not read DaemonSet \(podNamespace)/\(owner) (\(error))")
        }
    }
}

