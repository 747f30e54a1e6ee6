import Foundation
import JSON
import KubeEmulator
import TestSupport

/// The real `install-cni run` process against a NodeFixture's directories and an API emulator, as the
/// DaemonSet runs it (minus the container): env vars only, like the chart's ConfigMap.
final class AgentProcess: @unchecked Sendable {
    let node: NodeFixture
    let emulator: KubeEmulator
    let readinessPort: Int
    let monitoringPort: Int
    let logPath: String
    private(set) var process: BackgroundProcess?
    var extraEnvironment: [String: String] = [:]

    init(node: NodeFixture, emulator: KubeEmulator, writeServiceAccount: Bool = true) throws {
        self.node = node
        self.emulator = emulator
        readinessPort = Self.unusedPort()
        monitoringPort = Self.unusedPort()
        logPath = node.root.path + "/agent.log"
        if writeServiceAccount {
            try node.write("sa/token", emulator.token)
            try node.write("sa/ca.crt", emulator.identity.caCertificatePEM)
        }
    }

    var environment: [String: String] {
        var environment = [
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "MOUNTED_CNI_NET_DIR": node.netDirectory, "CNI_BIN_DIR": node.binDirectory, "CNI_BIN_SOURCE_DIR": node.sourceDirectory,
            "CNI_AGENT_RUN_DIR": node.runDirectory, "SERVICE_ACCOUNT_DIR": node.serviceAccountDirectory,
            "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(emulator.port),
            "CHAINED_CNI_PLUGIN": node.configuration.chained ? "true" : "false",
            "POD_NAMESPACE": "istio-system", "EXCLUDE_NAMESPACES": "kube-system", "NODE_NAME": "node-a", "REPAIR_NODE_NAME": "node-a",
            "READINESS_PORT": String(readinessPort), "MONITORING_PORT": String(monitoringPort), "LOG_LEVEL": "debug",
        ]
        environment.merge(extraEnvironment) { $1 }
        return environment
    }

    var pidPath: String { node.root.path + "/agent.pid" }

    /// Starts the agent and waits until its plugin socket exists.
    func start() throws {
        try? FileManager.default.removeItem(atPath: node.runDirectory + "/agent.sock")
        let environment = environment.sorted { $0.key < $1.key }.map { "'\($0.key)=\($0.value)'" }.joined(separator: " ")
        let script = "env -i \(environment) \(Paths.built("install-cni")) run >>\(logPath) 2>&1 & echo $! >\(pidPath); "
            + "while [ ! -S \(node.runDirectory)/agent.sock ]; do sleep 0.05; done; echo ready; wait"
        process = try BackgroundProcess(["sh", "-c", script], timeout: 30)
    }

    var pid: Int32? {
        (try? String(contentsOfFile: pidPath, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// SIGTERM to the agent; waits (up to 20 s) for it to finish its shutdown.
    func terminate() {
        signal(SIGTERM)
    }

    func kill() {
        signal(SIGKILL)
    }

    private func signal(_ number: Int32) {
        guard let pid else { return }
        _ = Foundation.kill(pid, number)
        Self.eventually(within: 20) { Foundation.kill(pid, 0) != 0 || Self.isZombie(pid) }
        process?.stop()
        process = nil
    }

    private static func isZombie(_ pid: Int32) -> Bool {
        ((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? "").contains(") Z ")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// GET on the agent's readiness or metrics port: (status, body).
    func http(_ port: Int, _ path: String) -> (Int, String) {
        guard let result = try? Command.run(["curl", "-s", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"], timeout: 10) else { return (0, "") }
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.popLast() ?? "") ?? 0
        return (status, lines.joined(separator: "\n"))
    }

    /// Polls `condition` every 20 ms for up to `seconds`; true when it held.
    @discardableResult
    static func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    /// A TCP port nothing listens on (checked in /proc/net/tcp), from a range tests do not share.
    static func unusedPort() -> Int {
        let listening = ((try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)) ?? "")
            + ((try? String(contentsOfFile: "/proc/net/tcp6", encoding: .utf8)) ?? "")
        // Below the kernel's ephemeral range (32768–60999 by default), where the suite's own outgoing
        // connections take their local ports: a listener bound there can fail with EADDRINUSE.
        while true {
            let port = Int.random(in: 20000...32767)
            if !listening.contains(":" + String(port, radix: 16, uppercase: true) + " ") { return port }
        }
    }

    deinit {
        if process != nil { kill() }
    }
}
