import IPTables
import Interception
import NFTables

/// Runs one pod namespace's iptables tools: each in a child that enters the namespace itself, with a
/// fixed environment whose `XTABLES_LOCKFILE` is the namespace file, so the xtables lock is scoped to
/// this pod and never contends with the node's own iptables users.
struct IPTablesRunner: Sendable {
    static let timeoutMilliseconds: Int32 = 20_000

    let namespace: NetworkNamespace
    let search: ExecutableSearch

    private var environment: [String] {
        ["PATH=" + ExecutableSearch.systemDirectories.joined(separator: ":"), "XTABLES_LOCKFILE=\(namespace.path)"]
    }

    func choose(_ family: AddressFamily, forced: IPTablesVariant?, legacyHoldsRules: Bool) throws(PodRulesFailure) -> IPTablesTool {
        do {
            return try IPTablesSelection.choose(family: family, forced: forced, legacyHoldsRules: legacyHoldsRules, locate: search.locate)
        } catch {
            throw .tool(error.description)
        }
    }

    func save(_ tool: IPTablesTool) throws(PodRulesFailure) -> IPTablesSnapshot {
        let output = try run(tool.saveArguments, input: "", what: tool.savePath)
        guard output.succeeded else {
            throw .tool("\(tool.savePath) failed (exit \(output.status)): \(output.standardError.trimmedLine)")
        }
        return IPTablesSnapshot(parsing: output.standardOutput)
    }

    func restore(_ tool: IPTablesTool, _ script: String) throws(PodRulesFailure) {
        let output = try run(tool.restoreArguments, input: script, what: tool.restorePath)
        guard output.succeeded else {
            throw .tool("\(tool.restorePath) --noflush failed (exit \(output.status)): \(output.standardError.trimmedLine)")
        }
    }

    private func run(_ arguments: [String], input: String, what: String) throws(PodRulesFailure) -> NamespaceCommandOutput {
        do {
            return try namespace.runCommand(arguments, environment: environment, input: input, timeoutMilliseconds: Self.timeoutMilliseconds)
        } catch {
            throw .namespace(error)
        }
    }
}

extension String {
    /// Tool output for a one-line message.
    var trimmedLine: String {
        split(separator: "\n").map { $0.trimmingSpaces }.filter { !$0.isEmpty }.joined(separator: "; ")
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " || $0 == "\r" }.reversed())
    }
}
