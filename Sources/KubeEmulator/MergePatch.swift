import JSON

/// JSON merge patch (RFC 7386), what `application/merge-patch+json` PATCH requests carry: objects
/// merge key by key, `null` removes a key, anything else replaces.
enum MergePatch {
    static func apply(_ patch: JSONValue, to target: JSONValue?) -> JSONValue {
        guard let patchObject = patch.objectValue else { return patch }
        var result = target?.objectValue ?? JSONObject()
        for (key, value) in patchObject.members {
            if value.isNull {
                result[key] = nil
            } else {
                result[key] = apply(value, to: result[key])
            }
        }
        return .object(result)
    }
}
