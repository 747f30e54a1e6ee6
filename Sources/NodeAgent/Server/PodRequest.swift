import Kubernetes

/// A plugin's cache request (`GET /v1/pods/NAMESPACE/NAME?uid=…&waitMilliseconds=…`), checked before
/// it touches the cache: Kubernetes names, a UID of hex digits and dashes, a wait in decimal digits.
struct PodRequest: Equatable {
    static let maximumWaitMilliseconds = 5000

    let namespace: String
    let name: String
    let uid: String?
    let waitMilliseconds: Int

    /// nil when `request` is not a pod request at all; otherwise the request or why it is refused.
    static func parse(_ request: AgentRequest) -> Result<PodRequest, PodRequestError>? {
        guard request.method == "GET", request.path.hasPrefix("/v1/pods/") else { return nil }
        let parts = request.path.dropFirst("/v1/pods/".count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { return .failure(PodRequestError("expected /v1/pods/NAMESPACE/NAME")) }
        guard KubernetesNames.isLabel(parts[0]) else { return .failure(PodRequestError("namespace \(PeerText.escaped(String(parts[0].prefix(80)))) is not a Kubernetes namespace name")) }
        guard KubernetesNames.isSubdomain(parts[1]) else { return .failure(PodRequestError("pod name \(PeerText.escaped(String(parts[1].prefix(80)))) is not a Kubernetes object name")) }
        let uid = request.query["uid"]
        if let uid, !(1...64).contains(uid.utf8.count) || !uid.utf8.allSatisfy(isUIDByte) {
            return .failure(PodRequestError("uid \(PeerText.escaped(String(uid.prefix(80)))) is not a pod UID"))
        }
        var wait = 0
        if let text = request.query["waitMilliseconds"] {
            guard !text.isEmpty, text.utf8.allSatisfy({ (48...57).contains($0) }) else {
                return .failure(PodRequestError("waitMilliseconds \(PeerText.escaped(String(text.prefix(80)))) is not a number of milliseconds"))
            }
            // Digits beyond the cap saturate: no arithmetic on the text's own length.
            wait = text.utf8.count > 4 ? maximumWaitMilliseconds : min(Int(text) ?? 0, maximumWaitMilliseconds)
        }
        return .success(PodRequest(namespace: parts[0], name: parts[1], uid: uid, waitMilliseconds: wait))
    }

    private static func isUIDByte(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte) || byte == 45
    }
}

struct PodRequestError: Error, Equatable, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
