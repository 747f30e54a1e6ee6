import CNI
import JSON

/// Our entry in the node's primary CNI config: the list editing itself is `CNI.ConfigListEditor`
/// (pure, fuzzed); this fixes the plugin type and reports failures as an install step.
enum ChainedConfigEditor {
    typealias Insertion = ConfigListEditor.Insertion

    static func insert(_ entry: JSONObject, into path: String, content: [UInt8]) throws(InstallError) -> Insertion {
        do {
            return try ConfigListEditor.insert(entry, into: path, content: content)
        } catch {
            throw InstallError(.cniConfig, error.message)
        }
    }

    /// `content` without our entries, or nil when it has none (nothing to write).
    static func removingEntry(from content: [UInt8]) -> [UInt8]? {
        ConfigListEditor.removing(type: PluginEntry.type, from: content)
    }

    static func holdsExactly(_ entry: JSONObject, content: [UInt8]) -> Bool {
        ConfigListEditor.holdsExactly(entry, content: content)
    }

    static func listPath(for path: String) -> String { ConfigListEditor.listPath(for: path) }

    static func serialize(_ object: JSONObject) -> [UInt8] { ConfigListEditor.serialize(object) }
}
