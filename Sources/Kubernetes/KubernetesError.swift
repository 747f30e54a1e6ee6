/// A failure to talk to the Kubernetes API, classified by what the caller can do about it.
public struct KubernetesError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The kubeconfig file does not exist (yet: the node agent writes it).
        case kubeconfigMissing
        /// The kubeconfig (or a file it names) exists but cannot be read.
        case kubeconfigUnreadable
        /// The kubeconfig is not usable: bad syntax, missing server, token or CA.
        case kubeconfigInvalid
        /// Connecting, TLS or the exchange failed or timed out.
        case transport
        /// The TLS library cannot be loaded (missing from `istio-cni-libs/`): retrying within one ADD
        /// cannot help; the node agent puts it back.
        case tlsUnavailable
        /// The API answered with a non-2xx status.
        case http(status: Int, retryAfterSeconds: Int?)
        /// The API answered 2xx with a body that is not the expected object.
        case decoding
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// Whether trying again may succeed: the agent may write the kubeconfig, rotate the token, the API
    /// may come back, a mirror pod may appear. Broken or unreadable configuration will not heal.
    public var isRetryable: Bool {
        switch kind {
        case .kubeconfigUnreadable, .kubeconfigInvalid, .tlsUnavailable: false
        case .kubeconfigMissing, .transport, .http, .decoding: true
        }
    }
}
