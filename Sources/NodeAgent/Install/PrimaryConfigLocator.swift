import JSON

/// Finds the node's primary CNI configuration the way the runtime and Istio do: files ending in
/// .conf, .conflist or .json, in bytewise name order, the first valid one wins.
struct PrimaryConfigLocator: Sendable {
    let directory: String
    /// CNI_CONF_NAME: use this file (or its .conf/.conflist twin) instead of the first valid one.
    let forcedName: String?

    static let extensions = [".conf", ".conflist", ".json"]

    enum Candidate: Equatable {
        case file(path: String)
        /// Nothing usable yet; the reason says what was seen.
        case none(reason: String)
    }

    func locate() -> Candidate {
        if let forcedName {
            for name in Self.twins(of: forcedName) {
                let path = directory + "/" + name
                if let content = FileSystem.readIfPresent(path), Self.validity(name: name, content: content) == nil { return .file(path: path) }
            }
            return .none(reason: "CNI_CONF_NAME \(forcedName) (or its .conf/.conflist twin) is not a valid CNI config in \(directory) yet")
        }
        var skipped: [String] = []
        for name in FileSystem.list(directory) where Self.extensions.contains(where: { name.hasSuffix($0) }) && !name.hasPrefix(".") {
            guard let content = FileSystem.readIfPresent(directory + "/" + name) else { continue }
            if let problem = Self.validity(name: name, content: content) {
                skipped.append("\(name): \(problem)")
                continue
            }
            return .file(path: directory + "/" + name)
        }
        let detail = skipped.isEmpty ? "" : " (skipped \(skipped.joined(separator: "; ")))"
        return .none(reason: "no valid primary CNI config in \(directory) yet\(detail)")
    }

    /// Why a file is not a primary config we can chain into, or nil when it is one.
    static func validity(name: String, content: [UInt8]) -> String? {
        guard let value = try? JSONParser.parse(content), let object = value.objectValue else { return "not a JSON object" }
        if name.hasSuffix(".conflist") {
            guard let listName = object["name"]?.stringValue, !listName.isEmpty else { return "a .conflist without \"name\"" }
            guard let plugins = object["plugins"]?.arrayValue, !plugins.isEmpty else { return "a .conflist without plugins" }
            guard plugins.allSatisfy({ $0.objectValue != nil }) else { return "\"plugins\" holds something that is not an object" }
            // A list of nothing but us is our own leftover, not the node's network.
            if plugins.allSatisfy(PluginEntry.isOurs) { return "only holds istio-cni" }
            return nil
        }
        guard let type = object["type"]?.stringValue, !type.isEmpty else { return "no \"type\" (a conflist in a .conf file?)" }
        if type == PluginEntry.type { return "istio-cni's own standalone config" }
        return nil
    }

    /// X.conf ↔ X.conflist, the fallback Istio applies to CNI_CONF_NAME.
    static func twins(of name: String) -> [String] {
        if name.hasSuffix(".conflist") { return [name, String(name.dropLast("list".count))] }
        if name.hasSuffix(".conf") { return [name, name + "list"] }
        return [name]
    }
}
