import JSON
import Kubernetes

/// PATCH and DELETE as the API server's REST layer applies them to the store.
extension APIRouter {
    static let mergePatchTypes: Set<String> = ["application/merge-patch+json", "application/strategic-merge-patch+json"]

    /// A merge patch of the object or its `status` subresource. As for real pods, the main resource
    /// ignores changes to `status`, and `status` ignores changes to `spec` and ownerReferences
    /// (labels and annotations may change through either). A `metadata.resourceVersion` in the
    /// patch is a precondition. Strategic merge patches are applied as merge patches: for the maps
    /// this emulator's clients patch (labels, annotations, counts) the two agree.
    func patch(_ route: Route, name: String, contentType: String?, body: [UInt8]) throws(APIStatus) -> JSONValue {
        let mediaType = contentType?.split(separator: ";").first.map { String($0.filter { $0 != " " }) } ?? ""
        guard Self.mergePatchTypes.contains(mediaType) else {
            throw APIStatus(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json (got \"\(mediaType)\")")
        }
        guard let patch = try? JSONParser.parse(body), patch.objectValue != nil else { throw APIStatus.badRequest("the patch is not a JSON object") }
        if let subresource = route.subresource, subresource != "status" { throw APIStatus.notFound("\(route.resource.plural)/\(subresource)", name) }
        return try store.modify(route.resource, namespace: route.namespace, name: name) { current throws(APIStatus) in
            let currentMetadata = current["metadata"]?.objectValue ?? JSONObject()
            if let wanted = patch["metadata"]?["resourceVersion"]?.stringValue, wanted != currentMetadata["resourceVersion"]?.stringValue {
                throw APIStatus.conflict(route.resource.plural, name, "the object has been modified; please apply your changes to the latest version and try again")
            }
            guard var patched = MergePatch.apply(patch, to: .object(current)).objectValue else { return current }
            var metadata = patched["metadata"]?.objectValue ?? JSONObject()
            for immutable in ["name", "namespace", "uid", "creationTimestamp"] { metadata[immutable] = currentMetadata[immutable] }
            if route.subresource == "status" {
                metadata["ownerReferences"] = currentMetadata["ownerReferences"]
                patched["spec"] = current["spec"]
            } else if route.resource.hasStatusSubresource {
                patched["status"] = current["status"]
            }
            patched["metadata"] = .object(metadata)
            return patched
        }
    }

    /// DELETE, honouring `DeleteOptions.preconditions` (uid, resourceVersion) with 409 Conflict.
    func delete(_ route: Route, name: String, body: [UInt8]) throws(APIStatus) -> JSONValue {
        var wantedUID: String?
        var wantedVersion: String?
        if !body.isEmpty {
            guard let options = try? JSONParser.parse(body), options.objectValue != nil else { throw APIStatus.badRequest("DeleteOptions is not a JSON object") }
            wantedUID = options["preconditions"]?["uid"]?.stringValue
            wantedVersion = options["preconditions"]?["resourceVersion"]?.stringValue
        }
        return try store.delete(route.resource, namespace: route.namespace, name: name) { existing throws(APIStatus) in
            let metadata = existing["metadata"]
            if let wantedUID, let uid = metadata?["uid"]?.stringValue, wantedUID != uid {
                throw APIStatus.conflict(route.resource.plural, name, "Precondition failed: UID in precondition: \(wantedUID), UID in object meta: \(uid)")
            }
            if let wantedVersion, let version = metadata?["resourceVersion"]?.stringValue, wantedVersion != version {
                throw APIStatus.conflict(route.resource.plural, name, "Precondition failed: ResourceVersion in precondition: \(wantedVersion), ResourceVersion in object meta: \(version)")
            }
        }
    }
}

extension ObjectSelector {
    /// The request's `labelSelector` and `fieldSelector`; a bad one is 400 Bad Request.
    static func from(_ query: [String: String]) throws(APIStatus) -> ObjectSelector {
        do {
            return try ObjectSelector(labelSelector: query["labelSelector"], fieldSelector: query["fieldSelector"])
        } catch {
            throw APIStatus.badRequest(error.message)
        }
    }
}
