import CNI
import Foundation
import NFTables
import PluginCore

/// Finds a running pod's network namespace from the agent's container: first from the record the
/// plugin left at ADD (checked to still hold one of the pod's IPs), else by matching the pod's IPs
/// against every namespace on the node through `/proc/<pid>/net`, which needs no setns per process.
struct NetnsLocator: Sendable {
    struct Found: Sendable, Equatable {
        /// The path as this process can open it.
        let path: String
        let how: String
        /// The plugin's record, when the namespace was found through it.
        var record: SandboxRecord?
    }

    let runDirectory: String
    let hostProc: String
    let hostNetnsDirectory: String

    init(runDirectory: String, repair: RepairConfiguration) {
        self.runDirectory = runDirectory
        hostProc = repair.hostProcDirectory
        hostNetnsDirectory = repair.hostNetnsDirectory
    }

    func locate(namespace: String, name: String, uid: String, ips: Set<IPAddress>) -> Found? {
        if let recorded = recorded(namespace: namespace, name: name, uid: uid, ips: ips) { return recorded }
        guard !ips.isEmpty else { return nil }
        return scan(ips: ips)
    }

    /// The plugin's record for this pod, if its namespace still exists and holds the pod's address.
    /// Records whose namespace is gone are removed on the way.
    func recorded(namespace: String, name: String, uid: String, ips: Set<IPAddress>) -> Found? {
        let directory = SandboxRecord.directory(runDirectory: runDirectory)
        for file in FileSystem.list(directory) where file.hasSuffix(".json") {
            let path = directory + "/" + file
            guard let bytes = FileSystem.readIfPresent(path), let record = SandboxRecord(json: bytes) else { continue }
            guard record.podNamespace == namespace, record.podName == name, record.podUID.isEmpty || uid.isEmpty || record.podUID == uid else { continue }
            let local = hostPath(record.netns)
            guard let handle = try? NetworkNamespace(path: local) else {
                if !FileSystem.exists(local) { removeRecord(path, record) }
                continue
            }
            if ips.isEmpty { return Found(path: local, how: "the plugin's record (\(record.netns))", record: record) }
            if let addresses = try? NamespaceAddresses.read(in: handle), !addresses.isDisjoint(with: ips) {
                return Found(path: local, how: "the plugin's record (\(record.netns))", record: record)
            }
        }
        return nil
    }

    /// Removes records whose namespace no longer exists (a pod whose DEL never reached the plugin).
    func pruneStaleRecords() -> Int {
        let directory = SandboxRecord.directory(runDirectory: runDirectory)
        var removed = 0
        for file in FileSystem.list(directory) where file.hasSuffix(".json") {
            let path = directory + "/" + file
            guard let bytes = FileSystem.readIfPresent(path), let record = SandboxRecord(json: bytes) else { continue }
            if !FileSystem.exists(hostPath(record.netns)), removeRecord(path, record) { removed += 1 }
        }
        return removed
    }

    /// Removes a record and the plugin's lock file for the same sandbox.
    @discardableResult
    private func removeRecord(_ path: String, _ record: SandboxRecord) -> Bool {
        try? FileSystem.remove(SandboxRecord.directory(runDirectory: runDirectory) + "/" + record.containerID + ".lock")
        return (try? FileSystem.remove(path)) != nil
    }

    /// Every network namespace on the node with a process in it, matched by address; among the
    /// processes in the matching namespace, the oldest (the sandbox's pause process).
    func scan(ips: Set<IPAddress>) -> Found? {
        let hostNamespace = namespaceIdentity(hostProc + "/1")
        var firstProcess: [String: (pid: String, started: UInt64)] = [:]
        for entry in FileSystem.list(hostProc) where entry.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
            guard let identity = namespaceIdentity(hostProc + "/" + entry), identity != hostNamespace else { continue }
            let started = startTime(entry)
            if let known = firstProcess[identity], known.started <= started { continue }
            firstProcess[identity] = (entry, started)
        }
        for (_, process) in firstProcess.sorted(by: { $0.value.started < $1.value.started }) {
            let addresses = NamespaceAddresses.read(procNetDirectory: hostProc + "/" + process.pid + "/net")
            if !addresses.isDisjoint(with: ips) {
                return Found(path: hostProc + "/" + process.pid + "/ns/net", how: "matching the pod's IP in \(hostProc) (pid \(process.pid))")
            }
        }
        return nil
    }

    /// A runtime's netns path as seen from this container: `/var/run/netns/x` and `/run/netns/x` under
    /// the mounted netns dir, `/proc/<pid>/ns/net` under the mounted /proc.
    func hostPath(_ path: String) -> String {
        for prefix in ["/var/run/netns/", "/run/netns/"] where path.hasPrefix(prefix) {
            return hostNetnsDirectory + "/" + path.dropFirst(prefix.count)
        }
        if path.hasPrefix("/proc/") { return hostProc + "/" + path.dropFirst("/proc/".count) }
        return path
    }

    /// "net:[4026531840]" for the process directory's network namespace.
    private func namespaceIdentity(_ processDirectory: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: processDirectory + "/ns/net")
    }

    /// Field 22 of /proc/<pid>/stat (start time in clock ticks since boot).
    private func startTime(_ pid: String) -> UInt64 {
        guard let bytes = FileSystem.readIfPresent(hostProc + "/" + pid + "/stat") else { return .max }
        let text = String(decoding: bytes, as: UTF8.self)
        // The command name (field 2) may hold spaces and parentheses; fields after the last ')' are plain.
        guard let close = text.lastIndex(of: ")") else { return .max }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) ?? .max : .max
    }
}
