import Glibc
import JSON
import Kubernetes

/// The node agent's pod cache, asked before the API server: a pod of this node is usually there already
/// (the agent watches them), and a Unix-socket round trip costs a fraction of a TLS request.
struct AgentPodCache {
    /// How long the agent may wait for its watch to deliver a pod it has not seen yet.
    static let catchUpMilliseconds = 500

    let socketPath: String

    enum Answer {
        case found(Pod)
        /// Ask the API instead; the reason is logged.
        case unavailable(String)
    }

    /// A question put to the agent; its answer is read with `answer(_:)` once the caller is ready.
    enum Request {
        case pending(LocalHTTP.Exchange)
        case unavailable(String)
    }

    /// Sends the lookup and returns at once: the agent answers while the plugin prepares the netns.
    func ask(namespace: String, name: String, uid: String?) -> Request {
        // The run dir is root-only; refuse a socket someone else could have put there.
        var status = stat()
        guard lstat(socketPath, &status) == 0 else { return .unavailable("no node agent socket at \(socketPath)") }
        guard status.st_mode & S_IFMT == S_IFSOCK, status.st_uid == 0 || status.st_uid == geteuid() else {
            return .unavailable("\(socketPath) is not a socket owned by root; not using it")
        }
        let deadline = MonotonicClock.now.adding(milliseconds: Int64(Self.catchUpMilliseconds) + 250)
        let target = AgentSocket.podTarget(namespace: namespace, name: name, uid: uid, waitMilliseconds: Self.catchUpMilliseconds)
        do throws(KubernetesError) {
            return .pending(try LocalHTTP.start(socket: socketPath, method: "GET", target: target, deadline: deadline))
        } catch {
            return .unavailable("node agent: \(error.message)")
        }
    }

    func answer(_ request: Request) -> Answer {
        let exchange: LocalHTTP.Exchange
        switch request {
        case .unavailable(let reason): return .unavailable(reason)
        case .pending(let sent): exchange = sent
        }
        do throws(KubernetesError) {
            let answer = try exchange.answer()
            guard answer.status == 200 else {
                return .unavailable("node agent answered \(answer.status)\(Self.reason(answer.body))")
            }
            do {
                return .found(try Pod(json: try JSONParser.parse(answer.body)))
            } catch {
                return .unavailable("node agent sent an unusable pod: \(error)")
            }
        } catch {
            return .unavailable("node agent: \(error.message)")
        }
    }

    private static func reason(_ body: [UInt8]) -> String {
        guard let message = (try? JSONParser.parse(body))?["message"]?.stringValue else { return "" }
        return ": " + message
    }
}
