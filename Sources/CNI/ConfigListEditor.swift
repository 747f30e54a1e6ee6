import JSON

/// Adds a chained plugin to, or removes it from, a network configuration (list) without touching
/// anything else in it: every other key, the plugins' order and the list's `cniVersion` stay as they
/// are. Pure bytes in, bytes out, so the node agent's edits can be fuzzed without a file system.
public enum ConfigListEditor {
    /// The file to write after inserting an entry into `path`'s `content`.
    public struct Insertion: Equatable, Sendable {
        public let path: String
        public let content: [UInt8]
        /// A single-plugin .conf/.json that was wrapped into `path` (a .conflist); it is removed after
        /// the write and restored on uninstall.
        public let replacedSingleConfig: String?
    }

    /// `content` with `entry` appended last and every other plugin of `entry`'s type removed.
    public static func insert(_ entry: JSONObject, into path: String, content: [UInt8]) throws(CNIError) -> Insertion {
        guard let object = (try? JSONParser.parse(content))?.objectValue else {
            throw CNIError(.invalidNetworkConfig, "\(path) is not a JSON object")
        }
        let type = entry["type"]
        if path.hasSuffix(".conflist") {
            guard let plugins = object["plugins"]?.arrayValue else {
                throw CNIError(.invalidNetworkConfig, "\(path): \"plugins\" is not an array")
            }
            var list = object
            // Every entry of our type goes, not just the first: duplicates (from older installers or a
            // reboot race) make the runtime program a pod twice.
            list["plugins"] = .array(plugins.filter { $0["type"] != type } + [.object(entry)])
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

    /// `content` without the plugins of `type`, or nil when it has none (nothing to write).
    public static func removing(type: String, from content: [UInt8]) -> [UInt8]? {
        guard var list = (try? JSONParser.parse(content))?.objectValue, let plugins = list["plugins"]?.arrayValue,
              plugins.contains(where: { $0["type"]?.stringValue == type }) else { return nil }
        list["plugins"] = .array(plugins.filter { $0["type"]?.stringValue != type })
        return serialize(list)
    }

    /// Whether `content` is a list whose last plugin is exactly `entry` and holds no other plugin of its type.
    public static func holdsExactly(_ entry: JSONObject, content: [UInt8]) -> Bool {
        guard let plugins = (try? JSONParser.parse(content))?["plugins"]?.arrayValue, let last = plugins.last else { return false }
        return plugins.filter { $0["type"] == entry["type"] }.count == 1 && last == .object(entry)
    }

    /// X.conf / X.json → X.conflist.
    public static func listPath(for path: String) -> String {
        for suffix in [".conf", ".json"] where path.hasSuffix(suffix) { return String(path.dropLast(suffix.count)) + ".conflist" }
        return path + ".conflist"
    }

    public static func serialize(_ object: JSONObject) -> [UInt8] {
        Array((JSONSerializer.serialize(.object(object), pretty: true) + "\n").utf8)
    }
}
