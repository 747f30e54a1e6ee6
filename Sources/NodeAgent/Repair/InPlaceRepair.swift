import CNI
import Foundation
import IPTables
import Interception
import JSON
import Kubernetes
import NFTables
import PluginCore

/// Programs a running pod's redirect rules in its network namespace with the plugin's own code path
/// (pod → PodFacts → MeshSelection → RedirectPlan → `PodRules` with the node's backend).
struct InPlaceRepair: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    enum Outcome: Sendable, Equatable {
        case programmed(String)
        /// The plugin's rules say this pod gets no rules (excluded namespace, interception NONE, …).
        case notIntercepted(String)
    }

    let locator: NetnsLocator
    let excludeNamespaces: [String]
    let agentNamespace: String?
    let rules: PodRules
    let runDirectory: String

    init(configuration: AgentConfiguration) {
        locator = NetnsLocator(runDirectory: configuration.runDirectory, repair: configuration.repair)
        excludeNamespaces = configuration.excludeNamespaces
        agentNamespace = configuration.podNamespace
        runDirectory = configuration.runDirectory
        let backend: RuleBackend = configuration.nativeNftables
            ? .nftables : .iptables(forced: configuration.forceIptablesBinary.flatMap(IPTablesVariant.init(forcedName:)))
        rules = PodRules(backend: backend, searchPath: ProcessInfo.processInfo.environment["PATH"])
    }

    func repair(_ object: JSONValue) throws(Failure) -> Outcome {
        let pod: Pod
        do { pod = try Pod(json: object) } catch { throw Failure(description: "the pod cannot be read: \(error)") }
        if let reason = MeshSelection.skipBeforeLookup(podName: pod.name, podNamespace: pod.namespace,
                                                       excludeNamespaces: excludeNamespaces, agentNamespace: agentNamespace) {
            return .notIntercepted("\(reason)")
        }
        let plan: RedirectPlan
        do {
            switch try MeshSelection.decide(PodFacts(pod)) {
            case .skip(let reason): return .notIntercepted("\(reason)")
            case .intercept(let policy): plan = try rules.plan(for: policy)
            }
        } catch {
            throw Failure(description: "invalid interception setting \(error)")
        }
        let ips = Self.podIPs(object)
        guard let found = locator.locate(namespace: pod.namespace, name: pod.name, uid: pod.uid, ips: ips) else {
            let shown = ips.map(\.description).sorted().joined(separator: ", ")
            throw Failure(description: "no network namespace on this node holds the pod's IP\(ips.count == 1 ? "" : "s") \(shown.isEmpty ? "(none in its status)" : shown)")
        }
        let namespace: NetworkNamespace
        do { namespace = try NetworkNamespace(path: found.path) } catch {
            throw Failure(description: "opening \(found.path) failed: \(error)")
        }
        let record = found.record
        let update = { (update: PodRules.RecordUpdate) in
            guard let record else { return }
            var updated = record
            updated.iptables = update.iptables
            updated.transparentProxyRoute = update.transparentProxyRoute
            _ = updated.write(runDirectory: runDirectory)
        }
        do {
            let report = try rules.apply(plan, prepared: try PreparedNamespace(in: namespace), previousRecord: { record }) { intent, _ in update(intent) }
            update(report.record)
            return .programmed("\(report.ruleCount) rules in \(report.written) (\(report.ipv6 ? "IPv4+IPv6" : "IPv4")), netns found by \(found.how)")
        } catch {
            throw Failure(description: "programming the rules in \(found.path) failed: \(error)")
        }
    }

    /// `status.podIPs` (dual-stack), else `status.podIP`.
    static func podIPs(_ pod: JSONValue) -> Set<IPAddress> {
        var texts = (pod["status"]?["podIPs"]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }
        if texts.isEmpty, let single = pod["status"]?["podIP"]?.stringValue { texts = [single] }
        return Set(texts.compactMap(IPAddress.init))
    }
}
