import Glibc
import JSON

/// What the plugin leaves in the run directory for each pod it programmed, so the agent's repair loop
/// finds the pod's network namespace without scanning every process: `<run dir>/sandboxes/<container ID>.json`.
/// Written at ADD after the rules are in, removed at DEL.
public struct SandboxRecord: Sendable, Equatable {
    public static let directoryName = "sandboxes"

    public let containerID: String
    /// CNI_NETNS as the runtime gave it (a path in the node's mount namespace).
    public let netns: String
    public let podNamespace: String
    public let podName: String
    public let podUID: String

    public init(containerID: String, netns: String, podNamespace: String, podName: String, podUID: String) {
        self.containerID = containerID
        self.netns = netns
        self.podNamespace = podNamespace
        self.podName = podName
        self.podUID = podUID
    }

    public init?(json bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes),
              let containerID = value["containerID"]?.stringValue, let netns = value["netns"]?.stringValue,
              let namespace = value["podNamespace"]?.stringValue, let name = value["podName"]?.stringValue else { return nil }
        self.init(containerID: containerID, netns: netns, podNamespace: namespace, podName: name, podUID: value["podUID"]?.stringValue ?? "")
    }

    public var json: String {
        JSONSerializer.serialize(.object(JSONObject([
            ("containerID", .string(containerID)), ("netns", .string(netns)), ("podNamespace", .string(podNamespace)),
            ("podName", .string(podName)), ("podUID", .string(podUID)),
        ])))
    }

    public static func directory(runDirectory: String) -> String { runDirectory + "/" + directoryName }

    /// The record's path; container IDs are checked by the CNI layer to be file-name safe.
    public static func path(runDirectory: String, containerID: String) -> String {
        directory(runDirectory: runDirectory) + "/" + containerID + ".json"
    }

    /// Writes the record (temp file and rename, so the agent never reads half of one).
    /// Returns a reason when it could not; the rules are in place either way.
    func write(runDirectory: String) -> String? {
        let directory = Self.directory(runDirectory: runDirectory)
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { return "mkdir \(directory): \(String(cString: strerror(errno)))" }
        let target = Self.path(runDirectory: runDirectory, containerID: containerID)
        let temporary = target + ".tmp\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return "open \(temporary): \(String(cString: strerror(errno)))" }
        let bytes = Array(json.utf8)
        let written = Glibc.write(fd, bytes, bytes.count)
        close(fd)
        guard written == bytes.count, rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return "write \(target): \(reason)"
        }
        return nil
    }

    static func remove(runDirectory: String, containerID: String) {
        unlink(path(runDirectory: runDirectory, containerID: containerID))
    }
}
