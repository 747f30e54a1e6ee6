import Glibc
import IPTables
import Interception
import JSON

/// What the plugin leaves in the run directory for each pod it programmed: `<run dir>/sandboxes/<container ID>.json`.
/// The agent's repair loop finds the pod's network namespace through it without scanning every
/// process, and it says what in the namespace is ours: Istio's iptables chain names are shared with
/// istio-init and Istio's own CNI, so only this record tells our iptables rules from theirs.
/// Written at ADD (for iptables before the rules go in, so a killed ADD still owns what it wrote),
/// removed at DEL.
public struct SandboxRecord: Sendable, Equatable {
    public static let directoryName = "sandboxes"

    public let containerID: String
    /// CNI_NETNS as the runtime gave it (a path in the node's mount namespace).
    public let netns: String
    /// The namespace's inode when the record was written: paths like /proc/PID/fd/N are reused for
    /// other namespaces, the inode is not while the namespace lives.
    public let netnsInode: UInt64?
    public let podNamespace: String
    public let podName: String
    public let podUID: String
    /// The iptables rules we wrote, per family; nil when nftables holds the rules.
    public var iptables: IPTablesOwnership?
    /// Whether we installed TPROXY's policy route.
    public var transparentProxyRoute = false

    public init(containerID: String, netns: String, netnsInode: UInt64? = nil, podNamespace: String, podName: String, podUID: String,
                iptables: IPTablesOwnership? = nil, transparentProxyRoute: Bool = false) {
        self.containerID = containerID
        self.netns = netns
        self.netnsInode = netnsInode
        self.podNamespace = podNamespace
        self.podName = podName
        self.podUID = podUID
        self.iptables = iptables
        self.transparentProxyRoute = transparentProxyRoute
    }

    public init?(json bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes),
              let containerID = value["containerID"]?.stringValue, let netns = value["netns"]?.stringValue,
              let namespace = value["podNamespace"]?.stringValue, let name = value["podName"]?.stringValue else { return nil }
        self.init(containerID: containerID, netns: netns, netnsInode: value["netnsInode"]?.int64Value.flatMap { UInt64(exactly: $0) },
                  podNamespace: namespace, podName: name, podUID: value["podUID"]?.stringValue ?? "",
                  iptables: value["iptables"].flatMap(IPTablesOwnership.init(json:)),
                  transparentProxyRoute: value["transparentProxyRoute"]?.boolValue ?? false)
    }

    public var json: String {
        var fields: [(String, JSONValue)] = [
            ("containerID", .string(containerID)), ("netns", .string(netns)), ("podNamespace", .string(podNamespace)),
            ("podName", .string(podName)), ("podUID", .string(podUID)),
        ]
        if let netnsInode { fields.append(("netnsInode", .integer(netnsInode))) }
        if let iptables { fields.append(("iptables", iptables.json)) }
        if transparentProxyRoute { fields.append(("transparentProxyRoute", .bool(true))) }
        return JSONSerializer.serialize(.object(JSONObject(fields)))
    }

    public static func directory(runDirectory: String) -> String { runDirectory + "/" + directoryName }

    /// The record's path; container IDs are checked by the CNI layer to be file-name safe.
    public static func path(runDirectory: String, containerID: String) -> String {
        directory(runDirectory: runDirectory) + "/" + containerID + ".json"
    }

    public static func read(runDirectory: String, containerID: String) -> SandboxRecord? {
        let bytes = ProcessIO.readFile(path(runDirectory: runDirectory, containerID: containerID))
        return bytes.flatMap(SandboxRecord.init(json:))
    }

    /// The record for `containerID` only when it describes the namespace at `namespacePath`: a record
    /// left by an earlier sandbox of a reused container ID speaks about a namespace that is gone, and
    /// its ownership claims must not make this ADD, CHECK or DEL touch chains in another namespace.
    public static func read(runDirectory: String, containerID: String, namespacePath: String) -> SandboxRecord? {
        read(runDirectory: runDirectory, containerID: containerID).flatMap { $0.describes(namespacePath: namespacePath) ? $0 : nil }
    }

    /// The recorded namespace inode when there is one; else the same path, or another path (bind
    /// mount, /proc/PID/ns/net) to the same namespace.
    func describes(namespacePath: String) -> Bool {
        if let netnsInode { return Self.inode(namespacePath) == netnsInode }
        if netns == namespacePath { return true }
        guard let recorded = Self.inode(netns) else { return false }
        return recorded == Self.inode(namespacePath)
    }

    /// nsfs gives every namespace its own inode on one device, so the inode alone names it.
    public static func inode(_ path: String) -> UInt64? {
        var status = stat()
        return stat(path, &status) == 0 ? UInt64(status.st_ino) : nil
    }

    /// Writes the record (temp file and rename, so the agent never reads half of one).
    /// Returns a reason when it could not.
    public func write(runDirectory: String) -> String? {
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

/// The iptables state one ADD wrote: per family, the variant and the hook-chain rules (save form,
/// "table CHAIN spec"); every `ISTIO_*` chain in that variant's tables is ours as well.
public struct IPTablesOwnership: Sendable, Equatable {
    public struct Family: Sendable, Equatable {
        public let variant: IPTablesVariant
        public let hookRules: [String]
    }

    public var families: [AddressFamily: Family]

    init(families: [AddressFamily: Family]) {
        self.families = families
    }

    init?(json: JSONValue) {
        var families: [AddressFamily: Family] = [:]
        for (key, family) in [("4", AddressFamily.ipv4), ("6", .ipv6)] {
            guard let entry = json[key] else { continue }
            guard let variant = entry["variant"]?.stringValue.flatMap(IPTablesVariant.init(rawValue:)),
                  let rules = entry["hookRules"]?.arrayValue?.compactMap(\.stringValue) else { return nil }
            families[family] = Family(variant: variant, hookRules: rules)
        }
        self.families = families
    }

    var json: JSONValue {
        .object(JSONObject([(AddressFamily.ipv4, "4"), (.ipv6, "6")].compactMap { family, key in
            families[family].map { entry in
                (key, .object(JSONObject([("variant", .string(entry.variant.rawValue)), ("hookRules", .array(entry.hookRules.map { .string($0) }))])))
            }
        }))
    }
}
