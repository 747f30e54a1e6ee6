import JSON
import Kubernetes

/// What one plugin invocation reports to the node agent (`POST /v1/plugin-report`), with the bounds
/// both sides keep: the plugin trims to them, and the agent refuses a report outside them, because
/// any root process on the node can write to the socket.
public struct PluginReport: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public let level: String
        public let message: String

        public init(level: String, message: String) {
            self.level = level
            self.message = message
        }
    }

    public static let commands: Set<String> = ["ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION"]
    public static let levels: Set<String> = ["info", "warn", "error"]
    public static let maximumEntries = 256
    public static let maximumMessageBytes = 16 * 1024
    public static let maximumNameBytes = 512
    /// A CNI runtime gives up on a plugin long before this (kubelet's CRI calls time out in minutes).
    public static let maximumDurationSeconds = 3600.0

    public let command: String
    public let outcome: String
    public let pod: String?
    public let containerID: String?
    public let durationSeconds: Double?
    public let entries: [Entry]
    public let error: String?

    public init(command: String, outcome: String, pod: String?, containerID: String?, durationSeconds: Double?,
                entries: [Entry], error: String?) {
        self.command = command
        self.outcome = String(Self.trimmed(outcome, to: Self.maximumNameBytes))
        self.pod = pod.map { String(Self.trimmed($0, to: Self.maximumNameBytes)) }
        self.containerID = containerID.map { String(Self.trimmed($0, to: Self.maximumNameBytes)) }
        self.durationSeconds = durationSeconds.map { $0.isFinite ? min(max($0, 0), Self.maximumDurationSeconds) : 0 }
        self.entries = entries.prefix(Self.maximumEntries).map { Entry(level: $0.level, message: Self.trimmed($0.message, to: Self.maximumMessageBytes)) }
        self.error = error.map { Self.trimmed($0, to: Self.maximumMessageBytes) }
    }

    public var json: JSONValue {
        var object = JSONObject([
            ("command", .string(command)), ("pod", pod.map(JSONValue.string) ?? .null),
            ("containerID", containerID.map(JSONValue.string) ?? .null), ("outcome", .string(outcome)),
        ])
        if let durationSeconds { object["durationSeconds"] = .number(String(durationSeconds)) }
        object["entries"] = .array(entries.map { .object(JSONObject([("level", .string($0.level)), ("message", .string($0.message))])) })
        if let error { object["error"] = .string(error) }
        return .object(object)
    }

    /// A report from the socket, every field checked; the error names the field and the value.
    public static func parse(_ body: [UInt8]) throws(PluginReportError) -> PluginReport {
        guard let value = try? JSONParser.parse(body), let object = value.objectValue else { throw PluginReportError("not a JSON object") }
        let command = try string(object, "command", limit: 16)
        guard commands.contains(command) else { throw PluginReportError("command \(quoted(command)) is not a CNI command") }
        let outcome = try string(object, "outcome", limit: maximumNameBytes)
        var duration: Double?
        if let number = object["durationSeconds"], !number.isNull {
            guard let seconds = number.doubleValue else { throw PluginReportError("durationSeconds is \(number.typeName), not a number") }
            guard seconds.isFinite, seconds >= 0, seconds <= maximumDurationSeconds else {
                throw PluginReportError("durationSeconds \(quoted(JSONSerializer.serialize(number))) is not a duration between 0 and \(Int(maximumDurationSeconds)) s")
            }
            duration = seconds
        }
        var entries: [Entry] = []
        if let list = object["entries"], !list.isNull {
            guard let array = list.arrayValue else { throw PluginReportError("entries is \(list.typeName), not an array") }
            guard array.count <= maximumEntries else { throw PluginReportError("\(array.count) entries, more than \(maximumEntries)") }
            for element in array {
                guard let entry = element.objectValue else { throw PluginReportError("an entry is \(element.typeName), not an object") }
                let level = try string(entry, "level", limit: 16)
                guard levels.contains(level) else { throw PluginReportError("entry level \(quoted(level)) is not info, warn or error") }
                entries.append(Entry(level: level, message: try string(entry, "message", limit: maximumMessageBytes)))
            }
        }
        return PluginReport(command: command, outcome: outcome, pod: try optionalString(object, "pod", limit: maximumNameBytes),
                            containerID: try optionalString(object, "containerID", limit: maximumNameBytes),
                            durationSeconds: duration, entries: entries, error: try optionalString(object, "error", limit: maximumMessageBytes))
    }

    private static func string(_ object: JSONObject, _ key: String, limit: Int) throws(PluginReportError) -> String {
        guard let value = try optionalString(object, key, limit: limit) else { throw PluginReportError("\(key) is missing") }
        return value
    }

    private static func optionalString(_ object: JSONObject, _ key: String, limit: Int) throws(PluginReportError) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw PluginReportError("\(key) is \(value.typeName), not a string") }
        guard text.utf8.count <= limit else { throw PluginReportError("\(key) is \(text.utf8.count) bytes, more than \(limit)") }
        return text
    }

    private static func trimmed(_ text: String, to limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var bytes = Array(text.utf8.prefix(limit - 3))
        // Cut on a character boundary, so the trimmed text is still valid UTF-8.
        while let last = bytes.last, last & 0xC0 == 0x80 { bytes.removeLast() }
        if let last = bytes.last, last >= 0xC0 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self) + "…"
    }

    private static func quoted(_ text: String) -> String {
        PeerText.quoted(Array(text.utf8))
    }
}

public struct PluginReportError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
