import Glibc

/// A failure of the netfilter backend, naming the operation and its subject
/// ("setns(/var/run/netns/cni-1234): Invalid argument").
public struct NFTablesError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The namespace path does not exist (the container is gone).
        case namespaceMissing
        /// The path exists but is not a network namespace, or is the plugin's own.
        case invalidNamespace
        /// The kernel refused the batch; nothing was applied.
        case rejected
        /// A system call failed.
        case system
    }

    public let kind: Kind
    public let operation: String
    public let subject: String
    public let errno: Int32?
    public let detail: String

    init(_ kind: Kind, _ operation: String, _ subject: String, errno: Int32? = nil, detail: String = "") {
        self.kind = kind
        self.operation = operation
        self.subject = subject
        self.errno = errno
        self.detail = detail
    }

    static func system(_ operation: String, _ subject: String, errno code: Int32 = Glibc.errno) -> NFTablesError {
        NFTablesError(.system, operation, subject, errno: code)
    }

    public var description: String {
        var text = "\(operation)(\(subject))"
        if let errno { text += ": " + String(cString: strerror(errno)) }
        if !detail.isEmpty { text += ": " + detail }
        return text
    }
}
