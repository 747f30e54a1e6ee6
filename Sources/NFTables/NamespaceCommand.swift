import CNetnsShim
import Glibc

/// What a command run inside a namespace printed and how it ended.
public struct NamespaceCommandOutput: Sendable {
    /// The exit status, or 128 + the signal that ended it.
    public let status: Int32
    public let standardOutput: String
    public let standardError: String

    public var succeeded: Bool { status == 0 }
}

extension NetworkNamespace {
    /// Runs an executable (absolute path, no shell) with its network namespace set to this one, `input`
    /// on its stdin, and only `environment` in its environment. The child enters the namespace itself,
    /// so no thread of this process changes namespace; it is killed after `timeoutMilliseconds`.
    public func runCommand(_ arguments: [String], environment: [String], input: String,
                           timeoutMilliseconds: Int32) throws(NFTablesError) -> NamespaceCommandOutput {
        guard let executable = arguments.first, executable.hasPrefix("/") else {
            throw NFTablesError(.system, "exec", arguments.first ?? "", detail: "not an absolute path")
        }
        var output = cnetns_output()
        let input = Array(input.utf8)
        let argv = Self.cStrings(arguments), envp = Self.cStrings(environment)
        defer { (argv + envp).forEach { free($0) } }
        guard argv.dropLast().allSatisfy({ $0 != nil }), envp.dropLast().allSatisfy({ $0 != nil }) else {
            throw NFTablesError.system("run \(executable) in", path, errno: ENOMEM)
        }
        let result = input.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { text in
                cnetns_run(descriptor, executable, argv, envp, text.baseAddress, text.count, timeoutMilliseconds, &output)
            }
        }
        defer { cnetns_output_free(&output) }
        let standardOutput = output.out.map { String(cString: $0) } ?? ""
        let standardError = output.err.map { String(cString: $0) } ?? ""
        if result == -ETIMEDOUT {
            throw NFTablesError(.system, "run \(executable) in", path, errno: ETIMEDOUT,
                                detail: "killed after \(timeoutMilliseconds) ms" + (standardError.isEmpty ? "" : ": \(standardError)"))
        }
        guard result == 0 else { throw NFTablesError.system("run \(executable) in", path, errno: -result) }
        let waitStatus = output.wait_status
        let signal = waitStatus & 0x7F
        let status = signal == 0 ? (waitStatus >> 8) & 0xFF : 128 + signal
        return NamespaceCommandOutput(status: status, standardOutput: standardOutput, standardError: standardError)
    }

    /// An execve-style vector: copies the caller frees, then the terminating NULL.
    private static func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] {
        strings.map { strdup($0) } + [nil]
    }
}
