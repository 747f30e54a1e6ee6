import JSON
import Logging
import PluginCore

/// What the agent answers on each of its servers.
enum AgentRoutes {
    /// :8000 — `/healthz` while the process runs; `/readyz` only while everything is installed.
    static func health(status: AgentStatus) -> AgentRoute {
        AgentRoute { request in
            switch request.path {
            case "/healthz": AgentAnswer(status: 200, "ok\n")
            case "/readyz": AgentAnswer(status: status.isReady ? 200 : 503, status.report)
            default: AgentAnswer(status: 404, "not found\n")
            }
        }
    }

    /// MONITORING_PORT — Prometheus text exposition.
    static func metrics(_ metrics: AgentMetrics) -> AgentRoute {
        AgentRoute { request in
            guard request.path == "/metrics" else { return AgentAnswer(status: 404, "not found\n") }
            return AgentAnswer(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition())
        }
    }

    /// The run dir's socket — the plugin's pod lookups and its reports. A cached pod and a report are
    /// answered on the event loop; only a pod the cache has not seen yet waits, as a task.
    static func pluginSocket(cache: PodCache, relay: PluginReportRelay) -> AgentRoute {
        let metrics = relay.metrics
        return AgentRoute(immediate: { request in
            switch PodRequest.parse(request) {
            case .success(let pod)?:
                guard let body = cache.cached(namespace: pod.namespace, name: pod.name, uid: pod.uid) else { return nil }
                return AgentAnswer(status: 200, contentType: "application/json", body: body)
            case .failure(let error)?:
                return AgentAnswer(status: 400, "\(error)\n")
            case nil:
                break
            }
            guard request.method == "POST", request.path == AgentSocket.reportTarget else { return AgentAnswer(status: 404, "not found\n") }
            do throws(PluginReportError) {
                try relay.enqueue(request.body)
                return AgentAnswer(status: 204, "")
            } catch {
                return AgentAnswer(status: 400, "not a plugin report: \(error)\n")
            }
        }, deferred: { request in
            guard case .success(let pod)? = PodRequest.parse(request) else { return AgentAnswer(status: 404, "not found\n") }
            switch await cache.lookup(namespace: pod.namespace, name: pod.name, uid: pod.uid, waitMilliseconds: pod.waitMilliseconds) {
            case .found(let body):
                return AgentAnswer(status: 200, contentType: "application/json", body: body)
            case .notFound:
                return notFound("the node agent has not seen pod \(pod.namespace)/\(pod.name)\(pod.uid.map { " with uid \($0)" } ?? "")")
            case .notSynced:
                return AgentAnswer(status: 503, contentType: "application/json",
                                   body: Array(#"{"message":"the node agent's pod cache is not synced yet"}"#.utf8))
            }
        }).observing { metrics.countPluginRequest(status: $0) }
    }

    private static func notFound(_ message: String) -> AgentAnswer {
        AgentAnswer(status: 404, contentType: "application/json",
                    body: Array(JSONSerializer.serialize(.object(JSONObject([("message", .string(message))]))).utf8))
    }
}
