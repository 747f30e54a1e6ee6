import Foundation
import JSON
import KubeEmulator

/// Runs the real plugin executable the way a runtime does: CNI_* environment, config on stdin,
/// against an API emulator whose kubeconfig sits in a temporary run directory.
public final class PluginHarness: @unchecked Sendable {
    public let emulator: KubeEmulator
    public let runDirectory: URL

    public init(keyType: EmulatorIdentity.KeyType = .ecdsaP256, tlsVersions: EmulatorTLSVersions = .standard) throws {
        emulator = try KubeEmulator(keyType: keyType, tlsVersions: tlsVersions)
        runDirectory = try Paths.temporaryDirectory("run")
        try emulator.kubeconfig().write(to: runDirectory.appendingPathComponent("istio-cni-kubeconfig"), atomically: true, encoding: .utf8)
    }

    deinit {
        emulator.stop()
        try? FileManager.default.removeItem(at: runDirectory)
    }

    public struct Outcome: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String

        public var json: JSONValue? { try? JSONParser.parse(stdout) }
        public var errorCode: Int? { json?["code"]?.int64Value.map { Int($0) } }
        public var errorMessage: String { json?["msg"]?.stringValue ?? "" }
    }

    /// The network configuration a chained conflist entry produces, with overrides/additions.
    public func config(cniVersion: String = "1.0.0", prevResult: JSONValue? = nil, extra: [(String, JSONValue)] = []) -> String {
        var object = JSONObject([
            ("cniVersion", .string(cniVersion)), ("name", .string("k8s-pod-network")), ("type", .string("istio-cni")),
            ("cni_agent_run_dir", .string(runDirectory.path)), ("exclude_namespaces", .array([.string("kube-system")])),
            ("pod_namespace", .string("istio-system")), ("pod_lookup_timeout_seconds", .number("3")),
        ])
        if let prevResult { object["prevResult"] = prevResult }
        for (key, value) in extra { object[key] = value }
        return JSONSerializer.serialize(.object(object))
    }

    public func run(_ command: String, netns: String?, pod: String? = "web", namespace: String? = "default",
                    containerID: String = "0123456789abcdef", config: String? = nil,
                    environment extra: [String: String] = [:], plugin: String = Paths.plugin,
                    stdin: String? = nil, wrapper: [String] = []) throws -> Outcome {
        let environment = self.environment(command, netns: netns, pod: pod, namespace: namespace, containerID: containerID, extra: extra)
        let result = try Command.run(wrapper + [plugin], stdin: stdin ?? config ?? self.config(), environment: environment, timeout: 60)
        return Outcome(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    /// Starts the plugin without waiting for it, for tests that act while it runs (kill it, pull
    /// its namespace away).
    public func start(_ command: String, netns: String, pod: String = "web", containerID: String = "0123456789abcdef",
                      config: String? = nil) throws -> ChildProcess {
        let environment = self.environment(command, netns: netns, pod: pod, namespace: "default", containerID: containerID, extra: [:])
        return try ChildProcess([Paths.plugin], environment: environment, stdin: config ?? self.config())
    }

    private func environment(_ command: String, netns: String?, pod: String?, namespace: String?, containerID: String,
                             extra: [String: String]) -> [String: String] {
        var environment = ["CNI_COMMAND": command, "CNI_CONTAINERID": containerID, "CNI_IFNAME": "eth0",
                           "CNI_PATH": "/usr/lib/cni", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        if let netns { environment["CNI_NETNS"] = netns }
        var args = ["IgnoreUnknown=1"]
        if let namespace { args.append("K8S_POD_NAMESPACE=\(namespace)") }
        if let pod { args.append("K8S_POD_NAME=\(pod)") }
        environment["CNI_ARGS"] = args.joined(separator: ";")
        environment.merge(extra) { $1 }
        return environment
    }

    @discardableResult
    public func addPod(_ pod: JSONValue) throws -> JSONValue {
        try emulator.store.create(.pods, namespace: pod["metadata"]?["namespace"]?.stringValue, pod)
    }
}
