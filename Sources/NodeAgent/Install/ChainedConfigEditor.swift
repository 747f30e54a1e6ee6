import JSON

/// Adds our entry to, or removes it from, the node's primary CNI config without touching anything
/// else in it: every other key, the plugins' order and the list's `cniVersion` stay as they are.
enum ChainedConfigEditor {
    /// The file to write after inserting our entry into `path`'s `content`.
    struct Insertion: Equatable {
        let path: String
        let content: [UInt8]
        /// A single-plugin .conf/.json that was wrapped into `path` (a .conflist); it is removed after
        /// the write and restored on uninstall.
        let replacedSingleConfig: String?
    }

    static func insert(_ entry: JSONObject, into path: String, content: [UInt8]) throws(InstallError) -> Insertion {
        guard let object = (try? JSONParser.parse(content))?.objectValue else {
            throw InstallError(.cniConfig, "\(path) is not a JSON object")
        }
        if path.hasSuffix(".conflist") {
            guard let plugins = object["plugins"]?.arrayValue else {
                throw InstallError(.cniConfig, "\(path): \"plugins\" is not an array")
            }
            var list = object
            // Every istio-cni entry goes, not just the first: duplicates (from older installers or a
            // reboot race) make the runtime program a pod twice.
            list["plugins"] = .array(plugins.filter { !PluginEntry.isOurs($0) } + [.object(entry)])
            return Insertion(path: path, content: serialize(list), replacedSingleConfig: nil)
        }
        var single = object
        single["cniVersion"] = nil
        let list = JSONObject([
            ("cniVersion", object["cniVersion"] ?? .string("0.3.1")),
            ("name", object["name"] ?? .string("k8s-pod-network")),
            ("plugins", .array([.object(single), .object(entry)])),
        ])
        return Insertion(path: listPath(for: path), content: serialize(list), replacedSingleConfig: path)
    }

    /// `content` without our entries, or nil when it has none (nothing to write).
    static func removingEntry(from content: [UInt8]) -> [UInt8]? {
        guard var list = (try? JSONParser.parse(content))?.objectValue, let plugins = list["plugins"]?.arrayValue,
              plugins.contains(where: PluginEntry.isOurs) else { return nil }
        list["plugins"] = .array(plugins.filter { !PluginEntry.isOurs($0) })
        return serialize(list)
    }

    /// Whether `content` is a list whose last plugin is exactly `entry` and holds no other istio-cni entry.
    static func holdsExactly(_ entry: JSONObject, content: [UInt8]) -> Bool {
        guard let plugins = (try? JSONParser.parse(content))?["plugins"]?.arrayValue, let last = plugins.last else { return false }
        return plugins.filter(PluginEntry.isOurs).count == 1 && last == .object(entry)
    }

    /// X.conf / X.json → X.conflist.
    static func listPath(for path: String) -> String {
        for suffix in [".conf", ".json"] where path.hasSuffix(suffix) { return String(path.dropLast(suffix.count)) + ".conflist" }
        return path + ".conflist"
    }

    static func serialize(_ object: JSONObject) -> [UInt8] {
        Array((JSONSerializer.serialize(.object(object), pretty: true) + "\n").utf8)
    }
}
