import JSON
import Logging
import ServiceLifecycle
import Synchronization

/// The repair loop: fed by the node's pod watch, it judges every mesh pod with `BrokenPodPredicate`
/// and acts on broken ones by the configured action, one at a time, under a per-pod backoff, a
/// node-wide rate limit and a breaker that stops deletions when too much of the node is broken.
final class RepairController: Service, PodEventSink {
    let configuration: RepairConfiguration
    let nodeName: String
    let predicate: BrokenPodPredicate
    let breaker: RepairBreaker
    let actions: RepairActions
    let memory: RepairedPodsMemory
    let events: EventRecorder
    let metrics: AgentMetrics
    let status: AgentStatus
    let logger: Logger
    let backoff = PerPodBackoff()
    let limiter: ActionRateLimiter

    private struct State {
        /// Mesh pods by namespace/name, encoded: a parsed pod takes several times the memory, and a
        /// node holds hundreds of them while only the broken few are ever read back.
        var pods: [String: [UInt8]] = [:]
        var broken: [String: BrokenPodDiagnosis] = [:]
        var queued: Set<String> = []
        var breakerOpen = false
        /// namespace/name + uid of pods already reported (report-only mode, or no action possible).
        var reported: Set<String> = []
    }

    private static let breakerKey = "\u{0}breaker"
    private let state = Mutex(State())
    private let queue: AsyncStream<String>
    private let enqueueing: AsyncStream<String>.Continuation

    init(configuration: RepairConfiguration, nodeName: String, api: KubeAPI, inPlace: InPlaceRepair, runDirectory: String,
         metrics: AgentMetrics, status: AgentStatus, logger: Logger) {
        self.configuration = configuration
        self.nodeName = nodeName
        predicate = BrokenPodPredicate(configuration)
        breaker = RepairBreaker(brokenShare: configuration.breakerBrokenShare, minimumBroken: configuration.breakerMinimumBroken)
        actions = RepairActions(api: api, labelKey: configuration.brokenPodLabelKey, labelValue: configuration.brokenPodLabelValue, inPlace: inPlace)
        memory = RepairedPodsMemory(runDirectory: runDirectory)
        events = EventRecorder(api: api, host: nodeName, logger: logger)
        limiter = ActionRateLimiter(perSecond: configuration.actionsPerSecond, burst: configuration.actionBurst)
        self.metrics = metrics
        self.status = status
        self.logger = logger
        (queue, enqueueing) = AsyncStream.makeStream(of: String.self)
        status.setRepair("\(configuration.action.rawValue) on node \(nodeName): waiting for the first pod list")
    }

    // MARK: Fed by the pod watch

    func replaceAll(_ pods: [WatchedPod]) {
        var present: Set<String> = []
        let wake = state.withLock { state -> [String] in
            state.pods = [:]
            state.broken = [:]
            for pod in pods {
                present.insert(pod.key)
                record(pod, in: &state)
            }
            state.reported = state.reported.filter { present.contains(String($0.split(separator: " ")[0])) }
            return Array(state.broken.keys) + evaluateBreaker(&state)
        }
        memory.keepOnly(present)
        if configuration.action == .repair {
            let pruned = actions.inPlace.locator.pruneStaleRecords()
            if pruned > 0 { logger.info("repair: removed \(pruned) sandbox records whose network namespace is gone") }
        }
        wake.forEach(enqueue)
        refreshStatus()
    }

    func apply(type: String, pod: WatchedPod) {
        let key = pod.key
        let wake = state.withLock { state -> [String] in
            if type == "DELETED" {
                state.pods[key] = nil
                state.broken[key] = nil
                state.reported = state.reported.filter { !$0.hasPrefix(key + " ") }
            } else {
                record(pod, in: &state)
            }
            return (state.broken[key] != nil ? [key] : []) + evaluateBreaker(&state)
        }
        if type == "DELETED" { memory.forget(key) }
        wake.forEach(enqueue)
        refreshStatus()
    }

    private func record(_ pod: WatchedPod, in state: inout State) {
        guard predicate.isMeshPod(pod.object) else {
            state.pods[pod.key] = nil
            state.broken[pod.key] = nil
            return
        }
        state.pods[pod.key] = pod.encoded
        state.broken[pod.key] = predicate.diagnose(pod.object)
    }

    /// The breaker's new position; a change wakes the worker to announce it.
    private func evaluateBreaker(_ state: inout State) -> [String] {
        let open = breaker.isOpen(broken: state.broken.count, meshPods: state.pods.count)
        guard open != state.breakerOpen else { return [] }
        state.breakerOpen = open
        return [Self.breakerKey]
    }

    private func enqueue(_ key: String) {
        let fresh = state.withLock { $0.queued.insert(key).inserted }
        if fresh { enqueueing.yield(key) }
    }

    private func enqueue(_ key: String, after delay: Duration) {
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            self?.enqueue(key)
        }
    }

    // MARK: The worker

    func run() async throws {
        logger.info("repair: \(configuration.action.rawValue) broken pods on node \(nodeName) (init container \(configuration.initContainerName.isEmpty ? "any" : configuration.initContainerName), exit code \(configuration.initContainerExitCode == 0 ? "any" : String(configuration.initContainerExitCode)))")
        await withGracefulShutdownHandler {
            for await key in queue {
                _ = state.withLock { $0.queued.remove(key) }
                if key == Self.breakerKey {
                    await announceBreaker()
                } else {
                    await process(key)
                }
            }
        } onGracefulShutdown: {
            self.enqueueing.finish()
        }
    }

    private func process(_ key: String) async {
        guard let current = state.withLock({ state -> ([UInt8], BrokenPodDiagnosis, Bool)? in
            guard let pod = state.pods[key], let diagnosis = state.broken[key] else { return nil }
            return (pod, diagnosis, state.breakerOpen)
        }), let pod = try? JSONParser.parse(current.0) else { return }
        let (diagnosis, breakerOpen) = (current.1, current.2)
        let uid = pod["metadata"]?["uid"]?.stringValue ?? ""
        let (action, fallbackNote) = chooseAction(diagnosis)
        switch action {
        case .reportOnly:
            report(key, uid: uid, "pod \(key) is broken: \(diagnosis): traffic redirection is not in place; no action taken (\(fallbackNote ?? "REPAIR_REPAIR_PODS, REPAIR_DELETE_PODS and REPAIR_LABEL_PODS are all false"))")
            return
        case .repair where memory.wasRepaired(key, uid: uid):
            metrics.countRepair(type: "repair", result: "skip")
            return
        case .label where pod["metadata"]?["labels"]?[configuration.brokenPodLabelKey] != nil:
            metrics.countRepair(type: "label", result: "skip")
            return
        case .delete where breakerOpen:
            report(key, uid: uid, "pod \(key) is broken (\(diagnosis)) but is not deleted: the repair breaker is open")
            return
        default:
            break
        }
        let wait = backoff.wait(for: key)
        if wait > .zero {
            enqueue(key, after: wait)
            return
        }
        await limiter.acquire()
        let started = ContinuousClock.now
        let result: RepairActions.Result
        switch action {
        case .label: result = await actions.label(pod)
        case .delete: result = await actions.delete(pod)
        case .repair: result = actions.repair(pod)
        case .reportOnly: return
        }
        await conclude(key, uid: uid, pod: pod, action: action, diagnosis: diagnosis, note: fallbackNote, result: result, started: started)
    }

    /// Istio's precedence, except that a pod which never restarts cannot recover from an in-place
    /// repair (its init container will not run again): it gets the next configured action.
    private func chooseAction(_ diagnosis: BrokenPodDiagnosis) -> (RepairConfiguration.Action, String?) {
        let action = configuration.action
        guard action == .repair, diagnosis.neverRestarts else { return (action, nil) }
        let note = "restartPolicy Never: repairing in place cannot help, its init container will not run again"
        if configuration.deletePods { return (.delete, note) }
        if configuration.labelPods { return (.label, note) }
        return (.reportOnly, note + "; delete the pod to recreate it")
    }

    private func conclude(_ key: String, uid: String, pod: JSONValue, action: RepairConfiguration.Action, diagnosis: BrokenPodDiagnosis,
                          note: String?, result: RepairActions.Result, started: ContinuousClock.Instant) async {
        let type = action.rawValue
        let (reason, inspect) = Self.eventReason(action, key: key, configuration: configuration, diagnosis: diagnosis)
        let found = "pod detected as broken: \(diagnosis): traffic redirection is not in place" + (note.map { " (\($0))" } ?? "")
        let elapsed = ContinuousClock.now - started
        switch result {
        case .done(let what):
            backoff.recordAction(key)
            if action == .repair { memory.remember(key, uid: uid) }
            metrics.countRepair(type: type, result: "success")
            logger.warning("repair: \(key): \(found); \(what) (\(elapsed.milliseconds) ms)")
            await events.warning(.pod(pod), reason: reason, message: "\(found); \(what)\(inspect)")
        case .skipped(let why):
            metrics.countRepair(type: type, result: "skip")
            report(key, uid: uid, "pod \(key) is broken (\(diagnosis)); \(type) skipped: \(why)")
        case .superseded(let why):
            logger.info("repair: \(key): \(why)")
        case .failed(let why):
            backoff.recordAction(key)
            metrics.countRepair(type: type, result: "fail")
            let retry = backoff.wait(for: key)
            logger.error("repair: \(key): \(found); \(why); retrying in \(retry.components.seconds) s")
            await events.warning(.pod(pod), reason: reason, message: "\(found); \(why)")
            enqueue(key, after: retry)
        }
    }

    static func eventReason(_ action: RepairConfiguration.Action, key: String, configuration: RepairConfiguration,
                            diagnosis: BrokenPodDiagnosis) -> (String, String) {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        let (namespace, name) = (parts.first ?? "", parts.count > 1 ? parts[1] : "")
        switch action {
        case .label:
            return ("LabelBrokenPod", ". Left running for inspection (repair.deletePods=false): kubectl logs -n \(namespace) \(name) -c \(diagnosis.container); "
                    + "kubectl get pods -A -l \(configuration.brokenPodLabelKey)=\(configuration.brokenPodLabelValue). Delete the pod to recreate it with rules")
        case .delete: return ("DeleteBrokenPod", "")
        case .repair, .reportOnly: return ("RepairBrokenPod", "")
        }
    }

    /// Logs a condition once per pod UID.
    private func report(_ key: String, uid: String, _ message: String) {
        let first = state.withLock { $0.reported.insert(key + " " + uid).inserted }
        if first { logger.warning("repair: \(message)") }
    }

    private func announceBreaker() async {
        let (open, broken, mesh, waiting) = state.withLock { state in
            (state.breakerOpen, state.broken.count, state.pods.count, Array(state.broken.keys))
        }
        let situation = breaker.describe(broken: broken, meshPods: mesh)
        metrics.setRepairBreaker(open: open)
        if open {
            logger.error("repair: breaker open: \(situation); deletions stop until fewer are broken (the CNI itself is likely at fault)")
            await events.warning(.node(nodeName), reason: "RepairBreakerOpen",
                                 message: "istio-cni repair stopped deleting pods: \(situation); check istio-cni-node on this node and the CNI chain")
        } else {
            logger.info("repair: breaker closed: \(situation); deletions resume")
            await events.normal(.node(nodeName), reason: "RepairBreakerClosed", message: "istio-cni repair resumed: \(situation)")
            state.withLock { $0.reported = [] }
            waiting.forEach(enqueue)
        }
        refreshStatus()
    }

    private func refreshStatus() {
        let (open, broken, mesh) = state.withLock { ($0.breakerOpen, $0.broken.count, $0.pods.count) }
        metrics.setRepairBroken(broken)
        let breakerText = open ? "breaker OPEN (\(breaker.describe(broken: broken, meshPods: mesh))): deletions paused" : "breaker closed"
        status.setRepair("\(configuration.action.rawValue) on node \(nodeName): \(mesh) mesh pods, \(broken) broken; \(breakerText)")
    }

    /// For tests and /readyz: broken pods now, and whether the breaker is open.
    var snapshot: (meshPods: Int, broken: Int, breakerOpen: Bool) {
        state.withLock { ($0.pods.count, $0.broken.count, $0.breakerOpen) }
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
