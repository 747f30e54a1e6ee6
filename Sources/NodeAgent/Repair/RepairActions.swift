import JSON

/// The API side of each action on a broken pod.
struct RepairActions: Sendable {
    enum Result: Sendable, Equatable {
        case done(String)
        /// Nothing to do (already labelled, already repaired, no rules for this pod).
        case skipped(String)
        /// The pod changed or went away since it was seen; the watch brings the new state.
        case superseded(String)
        case failed(String)
    }

    let api: KubeAPI
    let labelKey: String
    let labelValue: String
    let inPlace: InPlaceRepair

    /// Merge-patches the broken-pod label through `pods/status` (what Istio patches, and what its RBAC grants).
    func label(_ pod: JSONValue) async -> Result {
        if pod["metadata"]?["labels"]?[labelKey] != nil { return .skipped("already labelled \(labelKey)") }
        let (namespace, name) = Self.identity(pod)
        let patch = JSONValue.object(JSONObject([("metadata", .object(JSONObject([
            ("labels", .object(JSONObject([(labelKey, .string(labelValue))]))),
        ])))]))
        do {
            _ = try await api.request(.PATCH, "/api/v1/namespaces/\(namespace)/pods/\(name)/status", body: patch,
                                      contentType: "application/merge-patch+json")
            return .done("labelled \(labelKey)=\(labelValue)")
        } catch where error.isNotFound {
            return .superseded("the pod is gone")
        } catch {
            return .failed("labelling failed: \(error)")
        }
    }

    /// Deletes with UID and resourceVersion preconditions: a pod recreated under the same name, or one
    /// that changed since it was judged broken, is never hit.
    func delete(_ pod: JSONValue) async -> Result {
        let (namespace, name) = Self.identity(pod)
        let options = JSONValue.object(JSONObject([
            ("apiVersion", .string("v1")), ("kind", .string("DeleteOptions")),
            ("preconditions", .object(JSONObject([
                ("uid", .string(pod["metadata"]?["uid"]?.stringValue ?? "")),
                ("resourceVersion", .string(pod["metadata"]?["resourceVersion"]?.stringValue ?? "")),
            ]))),
        ]))
        do {
            _ = try await api.request(.DELETE, "/api/v1/namespaces/\(namespace)/pods/\(name)", body: options)
            return .done("deleted")
        } catch where error.isNotFound {
            return .superseded("the pod is already gone")
        } catch where error.status == 409 {
            return .superseded("the pod changed since it was seen (\(error)); judging its new state")
        } catch {
            return .failed("deleting failed: \(error)")
        }
    }

    func repair(_ pod: JSONValue) -> Result {
        do {
            switch try inPlace.repair(pod) {
            case .programmed(let what): return .done("repaired in place: \(what); it recovers when its validation container restarts")
            case .notIntercepted(let why): return .skipped("the plugin gives this pod no rules (\(why))")
            }
        } catch {
            return .failed("repair in place failed: \(error)")
        }
    }

    static func identity(_ pod: JSONValue) -> (String, String) {
        (pod["metadata"]?["namespace"]?.stringValue ?? "default", pod["metadata"]?["name"]?.stringValue ?? "")
    }
}
