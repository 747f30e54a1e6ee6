import Prometheus
import Synchronization

/// The agent's Prometheus metrics (Istio's names where Istio has them).
public final class AgentMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let ready: Gauge
    private let pluginRequestCounters = Mutex<[Int: Counter]>([:])
    private let addDurationBuckets: [Double] = [0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    public init() {
        ready = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "istio", subsystem: "cni", metricName: "install", unitName: "ready",
            helpText: "Whether the plugin, its kubeconfig and its CNI config entry are all in place (1) or not (0)"))
    }

    /// One install pass that changed something or failed; `result` is SUCCESS or the failed step.
    func countInstall(result: String) {
        registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "istio", subsystem: "cni", metricName: "installs", unitName: "total",
            helpText: "Install passes that changed the node, by result"), labels: [("result", result)]).increment()
    }

    func setReady(_ isReady: Bool) {
        ready.set(to: isReady ? 1.0 : 0.0)
    }

    /// Label values a report may carry; anything else is counted as "other", so a local process cannot
    /// grow the metric without bound.
    static let pluginCommands: Set<String> = ["ADD", "DEL", "CHECK"]
    static let pluginOutcomes: Set<String> = ["rules applied", "skipped", "failed", "done", "rules removed", "nothing to remove"]

    /// A plugin invocation's duration as the plugin measured it (from its report on the agent socket).
    func observePlugin(command: String, outcome: String, seconds: Double) {
        guard seconds.isFinite, seconds >= 0 else { return }
        registry.makeValueHistogram(descriptor: MetricNameDescriptor(
            namespace: "istio", subsystem: "cni", metricName: "plugin_duration", unitName: "seconds",
            helpText: "Duration of istio-cni plugin invocations (ADD, DEL, CHECK), by command and outcome, from the plugin's reports"),
            labels: [("command", Self.pluginCommands.contains(command) ? command : "other"),
                     ("outcome", Self.pluginOutcomes.contains(outcome) ? outcome : "other")],
            buckets: addDurationBuckets).record(seconds)
    }

    /// One request of the plugin on the agent socket, by the status it was answered with (Istio's
    /// counter of its plugin's requests to the node agent). Counted on the socket's thread while the
    /// plugin waits, so each status's counter is made once and then only incremented.
    func countPluginRequest(status: Int) {
        let counter = pluginRequestCounters.withLock { counters in
            if let counter = counters[status] { return counter }
            let counter = registry.makeCounter(descriptor: MetricNameDescriptor(
                namespace: "istio", subsystem: "cni", metricName: "plugin_requests", unitName: "total",
                helpText: "The total number of CNI plugin requests handled by the node agent, by response code"),
                labels: [("response_code", String(status))])
            counters[status] = counter
            return counter
        }
        counter.increment()
    }

    /// One repair action (`type` label, delete or repair) and its result (success, skip or fail).
    func countRepair(type: String, result: String) {
        registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "istio", subsystem: "cni", metricName: "repair_pods_repaired", unitName: "total",
            helpText: "Broken pods acted on by the repair loop, by action and result"), labels: [("type", type), ("result", result)]).increment()
    }

    func setRepairBroken(_ count: Int) {
        registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "istio", subsystem: "cni", metricName: "repair_broken", unitName: "pods",
            helpText: "Mesh pods on this node whose validation init container reports broken redirection")).set(to: Double(count))
    }

    func setRepairBreaker(open: Bool) {
        registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "istio", subsystem: "cni", metricName: "repair_breaker", unitName: "open",
            helpText: "1 while the repair breaker has stopped deletions because too much of the node is broken")).set(to: open ? 1 : 0)
    }

    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
