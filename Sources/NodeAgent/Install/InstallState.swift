import JSON

/// What the agent changed on the node, kept in the run dir so that an agent restarted (or
/// `install-cni uninstall` run later) can undo exactly that: which config file carries our entry, and
/// the single-plugin .conf it replaced, with its original content.
struct InstallState: Equatable, Sendable {
    static let fileName = "install-state.json"

    var configPath: String?
    var replacedSingleConfig: String?
    var replacedSingleContent: [UInt8]?

    static func load(runDirectory: String) -> InstallState {
        guard let bytes = FileSystem.readIfPresent(runDirectory + "/" + fileName), let object = (try? JSONParser.parse(bytes))?.objectValue else {
            return InstallState()
        }
        return InstallState(configPath: object["configPath"]?.stringValue,
                            replacedSingleConfig: object["replacedSingleConfig"]?.stringValue,
                            replacedSingleContent: object["replacedSingleContent"]?.stringValue.map { Array($0.utf8) })
    }

    func save(runDirectory: String) throws(FileSystemError) {
        var object = JSONObject()
        if let configPath { object["configPath"] = .string(configPath) }
        if let replacedSingleConfig { object["replacedSingleConfig"] = .string(replacedSingleConfig) }
        if let replacedSingleContent { object["replacedSingleContent"] = .string(String(decoding: replacedSingleContent, as: UTF8.self)) }
        try AtomicFile.write(Array((JSONSerializer.serialize(.object(object), pretty: true) + "\n").utf8),
                             to: runDirectory + "/" + Self.fileName, mode: 0o600)
    }
}
