import CNI
import Interception
import Kubernetes
import NFTables

/// istio-cni's CNI handlers: find out whether the pod is a sidecar-mode mesh pod and, if so, write
/// its redirect rules into the pod's network namespace with one nftables transaction.
public struct IstioCNIPlugin: PassThroughCNIPlugin {
    /// Plugin-specific error code (the spec reserves 100+): CHECK found the rules missing or different.
    public static let rulesNotAsExpected = CNIError.Code(rawValue: 100)
    /// ADD found Istio iptables chains in the namespace that istio-cni did not write.
    public static let foreignInterception = CNIError.Code(rawValue: 101)

    let processEnvironment: [String: String]
    let log: PluginLog
    let startedAt: MonotonicClock.Instant

    public init(processEnvironment: [String: String], log: PluginLog = PluginLog(), startedAt: MonotonicClock.Instant = MonotonicClock.now) {
        self.processEnvironment = processEnvironment
        self.log = log
        self.startedAt = startedAt
    }

    public func add(_ request: CNIRequest) throws(CNIError) {
        let settings = try PluginSettings(request.config, processEnvironment: processEnvironment)
        let subject = PodReference(request.environment)
        introduce(subject, settings: settings)
        if let reason = MeshSelection.skipBeforeLookup(podName: subject.name, podNamespace: subject.namespace,
                                                       excludeNamespaces: settings.excludeNamespaces, agentNamespace: settings.agentNamespace) {
            skipped(subject, reason)
            return
        }
        let namespace = try openNamespace(request.environment, subject: subject, command: "ADD")
        let askedAt = MonotonicClock.now
        // The agent answers while the namespace thread gets ready (enter, inspect, open its socket).
        let agentRequest = try askAgent(subject, settings: settings)
        let preparation: PreparedNamespace
        do { preparation = try PreparedNamespace(in: namespace) } catch { throw Self.namespaceError(error, subject: subject, command: "ADD") }
        guard let (pod, source) = try lookup(subject, settings: settings, command: "ADD", agentRequest: agentRequest) else { return }
        let lookedUp = MonotonicClock.now
        let rules = PodRules(backend: settings.backend, searchPath: processEnvironment["PATH"])
        let plan: RedirectPlan
        switch try decide(pod, subject: subject) {
        case .skip(let reason):
            skipped(subject, reason)
            return
        case .intercept(let policy):
            do { plan = try rules.plan(for: policy) } catch { throw invalidPod(subject, error) }
        }
        let containerID = request.environment.containerID ?? ""
        let inode = SandboxRecord.inode(namespace.path)
        let record = { (update: PodRules.RecordUpdate) in
            SandboxRecord(containerID: containerID, netns: namespace.path, netnsInode: inode, podNamespace: pod.namespace, podName: pod.name, podUID: pod.uid,
                          iptables: update.iptables, transparentProxyRoute: update.transparentProxyRoute)
        }
        guard namespace.isStillAtPath else { throw Self.namespaceVanished(namespace, subject: subject) }
        let lock = try lockSandbox(containerID, settings: settings, subject: subject, command: "ADD")
        defer { lock?.release() }
        var intentWritten = false
        var replacedRecord: SandboxRecord?
        let takeBackRecord = {
            guard intentWritten else { return }
            if let replacedRecord {
                _ = replacedRecord.write(runDirectory: settings.runDirectory)
            } else {
                SandboxRecord.remove(runDirectory: settings.runDirectory, containerID: containerID)
            }
        }
        let report: PodRules.Report
        do {
            report = try rules.apply(plan, prepared: preparation, previousRecord: {
                containerID.isEmpty ? nil : SandboxRecord.read(runDirectory: settings.runDirectory, containerID: containerID, namespacePath: namespace.path)
            }) { update, previous in
                // Written before iptables rules go in: the chains carry Istio's names, and only this
                // record will tell a later ADD or DEL that they are ours.
                replacedRecord = previous
                intentWritten = record(update).write(runDirectory: settings.runDirectory) == nil
            }
        } catch {
            takeBackRecord()
            throw Self.rulesError(error, subject: subject, command: "ADD")
        }
        let done = MonotonicClock.now
        // The rules went into a namespace the runtime has already let go of: they die with it.
        guard namespace.isStillAtPath else {
            takeBackRecord()
            throw Self.namespaceVanished(namespace, subject: subject)
        }
        if !containerID.isEmpty, let problem = record(report.record).write(runDirectory: settings.runDirectory) {
            log.warning("ADD \(subject): the repair loop will have to search for this pod's netns: \(problem)")
        }
        let replaced = report.replaced.isEmpty ? "" : ", replaced \(report.replaced.joined(separator: ","))"
        log.outcome("rules applied")
        log.info("ADD \(subject): rules applied (\(report.written), \(report.ruleCount) rules, "
                 + "\(report.ipv6 ? "IPv4+IPv6" : "IPv4")\(replaced); pod from \(source.rawValue)) "
                 + "timing main_entry_us=\(startedAt.microseconds) lookup_us=\(lookedUp.microseconds(since: startedAt)) "
                 + "pod_request_us=\(lookedUp.microseconds(since: askedAt)) "
                 + "commit_us=\(done.microseconds(since: lookedUp)) total_us=\(done.microseconds(since: startedAt))")
    }

    private func introduce(_ subject: PodReference, settings: PluginSettings) {
        log.use(runDirectory: settings.runDirectory)
        if subject.name != nil { log.about(pod: subject.qualifiedName) }
    }

    private func skipped(_ subject: PodReference, _ reason: SkipReason) {
        log.outcome("skipped")
        log.info("ADD \(subject): no rules: \(reason)")
    }

    public func delete(environment: CNIEnvironment, config: NetworkConfig?, configProblem: CNIError?) throws(CNIError) {
        let subject = PodReference(environment)
        let settings = config.flatMap { try? PluginSettings($0, processEnvironment: processEnvironment) }
        var record: SandboxRecord?
        var lock: SandboxLock?
        if let settings {
            introduce(subject, settings: settings)
            // DEL must not fail a pod's teardown: after the wait it goes on without the lock.
            lock = environment.containerID.flatMap { try? lockSandbox($0, settings: settings, subject: subject, command: "DEL") }
            record = environment.containerID.flatMap { id in
                environment.netns.flatMap { SandboxRecord.read(runDirectory: settings.runDirectory, containerID: id, namespacePath: $0) }
            }
        }
        if let configProblem { log.warning("DEL \(subject): ignoring unusable configuration (\(configProblem)); removing our tables anyway") }
        defer {
            if let settings, let containerID = environment.containerID { SandboxRecord.remove(runDirectory: settings.runDirectory, containerID: containerID) }
            lock?.release(removingFile: true)
        }
        guard let path = environment.netns else {
            log.info("DEL \(subject): no network namespace given, nothing to remove")
            return
        }
        let namespace: NetworkNamespace
        do {
            namespace = try NetworkNamespace(path: path)
        } catch where error.kind == .namespaceMissing {
            log.info("DEL \(subject): network namespace \(path) is gone, nothing to remove")
            return
        } catch where error.kind == .invalidNamespace {
            throw Self.namespaceError(error, subject: subject, command: "DEL")
        } catch {
            log.warning("DEL \(subject): could not open the network namespace: \(error)")
            return
        }
        do {
            let removed = try PodRules(backend: settings?.backend ?? .nftables, searchPath: processEnvironment["PATH"])
                .remove(namespace: namespace, record: record)
            log.outcome(removed.isEmpty ? "nothing to remove" : "rules removed")
            log.info("DEL \(subject): " + (removed.isEmpty ? "no istio-cni rules present" : "removed \(removed.joined(separator: ","))"))
        } catch {
            // DEL must not wedge pod teardown: the namespace and its rules go away with the pod anyway.
            log.warning("DEL \(subject): could not remove the rules: \(error)")
        }
    }

    public func check(_ request: CNIRequest) throws(CNIError) {
        let settings = try PluginSettings(request.config, processEnvironment: processEnvironment)
        let subject = PodReference(request.environment)
        introduce(subject, settings: settings)
        let namespace = try openNamespace(request.environment, subject: subject, command: "CHECK")
        let rules = PodRules(backend: settings.backend, searchPath: processEnvironment["PATH"])
        var plan: RedirectPlan?
        if MeshSelection.skipBeforeLookup(podName: subject.name, podNamespace: subject.namespace,
                                          excludeNamespaces: settings.excludeNamespaces, agentNamespace: settings.agentNamespace) == nil,
           let (pod, _) = try lookup(subject, settings: settings, command: "CHECK"),
           case .intercept(let policy) = try decide(pod, subject: subject) {
            do { plan = try rules.comparisonPlan(for: policy) } catch { throw invalidPod(subject, error) }
        }
        let record = request.environment.containerID.flatMap {
            SandboxRecord.read(runDirectory: settings.runDirectory, containerID: $0, namespacePath: namespace.path)
        }
        let problems: [String]
        do {
            problems = try rules.problems(plan, namespace: namespace, record: record)
        } catch {
            throw Self.rulesError(error, subject: subject, command: "CHECK")
        }
        guard problems.isEmpty else {
            throw CNIError(Self.rulesNotAsExpected, "CHECK \(subject): istio-cni rules are not as expected: \(problems[0])",
                           details: problems.joined(separator: "; "))
        }
        log.info("CHECK \(subject): rules as expected (\(settings.backend))")
    }

    public func status(config: NetworkConfig) throws(CNIError) {
        let settings = try PluginSettings(config, processEnvironment: processEnvironment)
        do {
            _ = try Kubeconfig.load(path: settings.kubeconfigPath)
        } catch {
            throw CNIError(.pluginNotAvailable, "istio-cni cannot look up pods: \(error.message)",
                           details: "the istio-cni node agent writes this kubeconfig; is istio-cni-node running on this node?")
        }
    }

    public func garbageCollect(config: NetworkConfig, validAttachments: [CNIAttachment]) throws(CNIError) {
        _ = try PluginSettings(config, processEnvironment: processEnvironment)
        // Rules live inside each pod's network namespace and disappear with it; the sandbox records are
        // removed at DEL, and the agent prunes any whose namespace is gone.
        log.info("GC: \(validAttachments.count) valid attachments; nothing to collect outside pod namespaces")
    }

    // MARK: Steps shared by ADD and CHECK

    private func openNamespace(_ environment: CNIEnvironment, subject: PodReference, command: String) throws(CNIError) -> NetworkNamespace {
        do {
            return try NetworkNamespace(path: environment.netns ?? "")
        } catch {
            throw Self.namespaceError(error, subject: subject, command: command)
        }
    }

    enum PodSource: String {
        case agent = "the node agent's cache"
        case api = "the API server"
    }

    /// The pod's namespace and name from CNI_ARGS, checked before they go into a request path.
    private func identity(_ subject: PodReference) throws(CNIError) -> (namespace: String, name: String)? {
        guard let name = subject.name, let namespace = subject.namespace else { return nil }
        guard KubernetesNames.isSubdomain(name) else {
            throw CNIError(.invalidEnvironment, "CNI_ARGS K8S_POD_NAME \"\(name)\" is not a valid pod name")
        }
        guard KubernetesNames.isLabel(namespace) else {
            throw CNIError(.invalidEnvironment, "CNI_ARGS K8S_POD_NAMESPACE \"\(namespace)\" is not a valid namespace name")
        }
        return (namespace, name)
    }

    private func agentCache(_ settings: PluginSettings) -> AgentPodCache {
        AgentPodCache(socketPath: AgentSocket.path(runDirectory: settings.runDirectory))
    }

    private func askAgent(_ subject: PodReference, settings: PluginSettings) throws(CNIError) -> AgentPodCache.Request? {
        guard let (namespace, name) = try identity(subject) else { return nil }
        return agentCache(settings).ask(namespace: namespace, name: name, uid: subject.uid)
    }

    private func lookup(_ subject: PodReference, settings: PluginSettings, command: String,
                        agentRequest: AgentPodCache.Request? = nil) throws(CNIError) -> (Pod, PodSource)? {
        guard let (namespace, name) = try identity(subject) else { return nil }
        let cache = agentCache(settings)
        switch cache.answer(agentRequest ?? cache.ask(namespace: namespace, name: name, uid: subject.uid)) {
        case .found(let pod):
            try Self.requireSameUID(pod, subject: subject, source: .agent)
            return (pod, .agent)
        case .unavailable(let reason):
            log.info("\(command) \(subject): asking the API server (\(reason))")
        }
        var lookup = PodLookup(kubeconfigPath: settings.kubeconfigPath, budgetMilliseconds: settings.podLookupTimeoutMilliseconds)
        lookup.sessionCachePath = settings.tlsSessionPath
        let pod: Pod
        do {
            pod = try lookup.fetch(namespace: namespace, name: name) { error, attempt in
                if attempt == 1 { log.warning("\(command) \(subject): pod lookup failed, retrying: \(error.message)") }
            }
        } catch {
            let seconds = Double(error.elapsedMilliseconds) / 1000
            switch error.last.kind {
            case .kubeconfigUnreadable where !error.budgetExhausted:
                throw CNIError(.ioFailure, "pod \(subject.qualifiedName): \(error.last.message)")
            case .kubeconfigInvalid where !error.budgetExhausted:
                throw CNIError(.invalidNetworkConfig, "pod \(subject.qualifiedName): \(error.last.message)")
            default:
                throw CNIError(.tryAgainLater,
                               "pod \(subject.qualifiedName): Kubernetes API lookup failed after \(error.attempts) attempts in \(String(format1: seconds))s: \(error.last.message)")
            }
        }
        try Self.requireSameUID(pod, subject: subject, source: .api)
        return (pod, .api)
    }

    /// A runtime that sends K8S_POD_UID is creating the sandbox of that pod; a pod of the same name with
    /// another UID is its successor (deleted and recreated), whose decision must not program this one.
    private static func requireSameUID(_ pod: Pod, subject: PodReference, source: PodSource) throws(CNIError) {
        guard let expected = subject.uid, !expected.isEmpty, pod.uid != expected else { return }
        throw CNIError(.tryAgainLater, "pod \(subject.qualifiedName): the runtime is creating a sandbox for pod UID \(expected), but "
                       + "\(source.rawValue) has pod UID \(pod.uid.isEmpty ? "(none)" : pod.uid) under that name (deleted and recreated?); "
                       + "no rules written for this sandbox")
    }

    private func decide(_ pod: Pod, subject: PodReference) throws(CNIError) -> InterceptionDecision {
        do {
            return try MeshSelection.decide(PodFacts(pod), processEnvironment: processEnvironment)
        } catch {
            throw invalidPod(subject, error)
        }
    }

    /// The sandbox's lock, or nil when it cannot be made (no container ID, unwritable run dir).
    private func lockSandbox(_ containerID: String, settings: PluginSettings, subject: PodReference,
                             command: String) throws(CNIError) -> SandboxLock? {
        guard !containerID.isEmpty else { return nil }
        do {
            return try SandboxLock.acquire(runDirectory: settings.runDirectory, containerID: containerID)
        } catch .unavailable(let reason) {
            log.warning("\(command) \(subject): going on without the sandbox lock: \(reason)")
            return nil
        } catch {
            throw CNIError(.tryAgainLater, "\(command) \(subject): another ADD or DEL of sandbox \(containerID) has held it for over "
                           + "\(SandboxLock.waitMilliseconds / 1000) s")
        }
    }

    static func rulesError(_ error: PodRulesFailure, subject: PodReference, command: String) -> CNIError {
        switch error {
        case .namespace(let failure): namespaceError(failure, subject: subject, command: command)
        case .foreign(let text): CNIError(foreignInterception, "\(command) \(subject): \(text)")
        case .tool(let text): CNIError(.ioFailure, "\(command) \(subject): programming the redirect rules with iptables failed: \(text)")
        }
    }

    private func invalidPod(_ subject: PodReference, _ error: InterceptionError) -> CNIError {
        CNIError(.invalidNetworkConfig, "pod \(subject.qualifiedName): invalid interception setting \(error)")
    }

    static func namespaceVanished(_ namespace: NetworkNamespace, subject: PodReference) -> CNIError {
        CNIError(.unknownContainer, "ADD \(subject): network namespace \(namespace.path) disappeared during ADD (the sandbox is being torn down); no rules are left behind")
    }

    static func namespaceError(_ error: NFTablesError, subject: PodReference, command: String) -> CNIError {
        switch error.kind {
        case .namespaceMissing:
            CNIError(.unknownContainer, "\(command) \(subject): network namespace \(error.subject) does not exist")
        case .invalidNamespace:
            CNIError(.invalidEnvironment, "CNI_NETNS \"\(error.subject)\" cannot be used: \(error.detail)")
        case .rejected, .system:
            CNIError(.ioFailure, "\(command) \(subject): programming the redirect rules failed", details: error.description)
        }
    }
}

/// The pod an invocation is about, for messages: "default/web (container 0123456789ab)".
struct PodReference: CustomStringConvertible {
    let name: String?
    let namespace: String?
    let uid: String?
    let containerID: String

    init(_ environment: CNIEnvironment) {
        name = environment.args.podName
        namespace = environment.args.podNamespace
        uid = environment.args.podUID
        containerID = environment.containerID ?? ""
    }

    var qualifiedName: String { "\(namespace ?? "?")/\(name ?? "?")" }

    var description: String {
        let container = containerID.isEmpty ? "" : " (container \(containerID.prefix(12)))"
        return (name == nil ? "non-Kubernetes sandbox" : qualifiedName) + container
    }
}

extension String {
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}
