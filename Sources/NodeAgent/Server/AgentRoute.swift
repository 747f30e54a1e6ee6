/// A request as the agent's routes see it.
public struct AgentRequest: Sendable {
    public let method: String
    public let path: String
    public let query: [String: String]
    public let body: [UInt8]

    /// "/path?a=1&b" → ("/path", ["a": "1", "b": ""]).
    static func split(_ target: String) -> (String, [String: String]) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query[String(kv[0])] = kv.count == 2 ? String(kv[1]) : ""
            }
        }
        return (String(parts[0]), query)
    }
}

public struct AgentAnswer: Sendable {
    public let status: Int
    public let contentType: String
    public let body: [UInt8]

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", _ text: String) {
        self.init(status: status, contentType: contentType, body: Array(text.utf8))
    }

    public init(status: Int, contentType: String, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}

/// How a server answers: `immediate` runs on the serving thread (an event loop, or the plugin socket's
/// own thread) and answers at once when it can — the plugin waits on these answers during pod
/// start-up; otherwise `deferred` runs as a task (waiting for the pod cache, say).
public struct AgentRoute: Sendable {
    let immediate: @Sendable (AgentRequest) -> AgentAnswer?
    let deferred: @Sendable (AgentRequest) async -> AgentAnswer
    /// The answer to bytes that are not a request this server takes (what was wrong with them).
    let refusal: @Sendable (String) -> AgentAnswer

    public init(immediate: @escaping @Sendable (AgentRequest) -> AgentAnswer?,
                deferred: @escaping @Sendable (AgentRequest) async -> AgentAnswer = { _ in AgentAnswer(status: 404, "not found\n") },
                refusal: @escaping @Sendable (String) -> AgentAnswer = { AgentAnswer(status: 400, "\($0)\n") }) {
        self.immediate = immediate
        self.deferred = deferred
        self.refusal = refusal
    }
}

extension AgentRoute {
    /// The same route, telling `observe` the status of every answer it gives.
    func observing(_ observe: @escaping @Sendable (Int) -> Void) -> AgentRoute {
        AgentRoute(immediate: { request in
            let answer = immediate(request)
            if let answer { observe(answer.status) }
            return answer
        }, deferred: { request in
            let answer = await deferred(request)
            observe(answer.status)
            return answer
        }, refusal: { reason in
            let answer = refusal(reason)
            observe(answer.status)
            return answer
        })
    }
}
