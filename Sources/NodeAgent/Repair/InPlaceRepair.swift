import CNI
import Interception
import JSON
import Kubernetes
import NFTables
import PluginCore

/// Programs a running pod's redirect rules in its network namespace with the plugin's own code path
/// (pod → PodFacts → MeshSelection → RedirectPlan → one nftables transaction).
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

    init(configuration: AgentConfiguration) {
        locator = NetnsLocator(runDirectory: configuration.runDirectory, repair: configuration.repair)
        excludeNamespaces = configuration.excludeNamespaces
        agentNamespace = configuration.podNamespace
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
            case .intercept(let policy): plan = try RedirectPlan(policy)
            }
        } catch {
            throw Failure(description: "invalid interception setting \(error)")
        }
        let ips = Self.podIPs(object)
        guard let found = locator.locate(namespace: pod.namespace, name: pod.name, uid: pod.uid, ips: ips) else {
            let shown = ips.map(\.description).sorted().joined(separator: ", ")
            throw Failure(description: "no network namespace on this node holds the pod's IP\(ips.count == 1 ? "" : "s") \(shown.isEmpty ? "(none in its status)" : shown)")
        }
        do {
            let namespace = try NetworkNamespace(path: found.path)
            let report = try PreparedApply(in: namespace).commit { facts in plan.rules(ipv6: facts.hasGlobalIPv6) }
            return .programmed("\(report.ruleCount) rules in nftables \(report.tables.joined(separator: ",")) (\(report.ipv6 ? "IPv4+IPv6" : "IPv4")), netns found by \(found.how)")
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
