import Foundation
import JSON
import KubeEmulator
import TestSupport

// The repair loop at node scale: 1,000 mesh pods on the node in the emulator, a release agent
// watching them, then 50 of them turning broken at once. Prints the time from each status change to
// the agent's action (the label arriving in the store), and the agent's RSS and CPU while idle and
// during the burst. Usage: repair-benchmark <install-cni binary> [pods] [broken] [label|delete]

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: repair-benchmark <install-cni> [pods] [broken] [label|delete]\n".utf8))
    exit(2)
}
let agentBinary = arguments[1]
let podCount = arguments.count > 2 ? Int(arguments[2]) ?? 1000 : 1000
let brokenCount = arguments.count > 3 ? Int(arguments[3]) ?? 50 : 50
let mode = arguments.count > 4 ? arguments[4] : "label"

let emulator = try KubeEmulator(keyType: .ecdsaP256, threads: 2)
let root = try Paths.temporaryDirectory("repair-bench")
defer { try? FileManager.default.removeItem(at: root) }
for directory in ["net.d", "bin", "image-bin", "sa", "run"] {
    try FileManager.default.createDirectory(at: root.appendingPathComponent(directory), withIntermediateDirectories: true)
}
try "#!/bin/sh\n".write(to: root.appendingPathComponent("image-bin/istio-cni"), atomically: true, encoding: .utf8)
try emulator.token.write(to: root.appendingPathComponent("sa/token"), atomically: true, encoding: .utf8)
try emulator.identity.caCertificatePEM.write(to: root.appendingPathComponent("sa/ca.crt"), atomically: true, encoding: .utf8)
try #"{"cniVersion":"1.0.0","name":"k8s-pod-network","plugins":[{"type":"bridge"}]}"#
    .write(to: root.appendingPathComponent("net.d/10-bridge.conflist"), atomically: true, encoding: .utf8)

let names = (0..<podCount).map { String(format: "app-%04d", $0) }
for (index, name) in names.enumerated() {
    let ip = "10.\(1 + index / 65536).\(index / 256 % 256).\(index % 256)"
    try emulator.store.create(.pods, namespace: "bench", PodFixtures.with(PodFixtures.meshPod(name: name, namespace: "bench"),
                                                                          status: PodFixtures.healthyStatus(podIP: ip)))
}

/// When each pod got its action, recorded from the store's change stream.
final class ActionClock: @unchecked Sendable {
    let lock = NSLock()
    var done: [String: Date] = [:]
    func record(_ name: String) { lock.withLock { if done[name] == nil { done[name] = Date() } } }
    var count: Int { lock.withLock { done.count } }
    func time(_ name: String) -> Date? { lock.withLock { done[name] } }
}
let clock = ActionClock()
emulator.store.observe { change in
    guard change.resource == .pods, let name = change.object["metadata"]?["name"]?.stringValue else { return }
    if change.kind == .deleted || change.object["metadata"]?["labels"]?["cni.istio.io/uninitialized"] != nil { clock.record(name) }
}

let readinessPort = Int.random(in: 30000...39999)
var environment = [
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "MOUNTED_CNI_NET_DIR": root.path + "/net.d", "CNI_BIN_DIR": root.path + "/bin", "CNI_BIN_SOURCE_DIR": root.path + "/image-bin",
    "CNI_AGENT_RUN_DIR": root.path + "/run", "SERVICE_ACCOUNT_DIR": root.path + "/sa",
    "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(emulator.port),
    "NODE_NAME": "node-a", "REPAIR_NODE_NAME": "node-a", "POD_NAMESPACE": "istio-system",
    "READINESS_PORT": String(readinessPort), "MONITORING_PORT": "0", "LOG_LEVEL": "warning",
]
environment[mode == "delete" ? "REPAIR_DELETE_PODS" : "REPAIR_LABEL_PODS"] = "true"
let agent = try ChildProcess([agentBinary, "run"], environment: environment)
defer {
    agent.kill()
    agent.wait(drain: 2)
}

func readiness() -> String {
    (try? Command.run(["curl", "-s", "http://127.0.0.1:\(readinessPort)/readyz"], timeout: 5).stdout) ?? ""
}

/// The agent process's CPU seconds and RSS.
func agentUsage() -> (cpu: Double, rssMiB: Double) {
    let pid = agent.pid
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
    let ticks = fields.count > 12 ? (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0) : 0
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let rssKiB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.flatMap { Double($0.split(separator: " ")[1]) } ?? 0
    return (ticks / Double(sysconf(Int32(_SC_CLK_TCK))), rssKiB / 1024)
}

let started = Date()
while !readiness().contains("\(podCount) mesh pods") {
    guard Date().timeIntervalSince(started) < 60 else { print("agent did not sync: \(readiness())"); exit(1) }
    usleep(50_000)
}
print("agent synced \(podCount) pods in \(String(format: "%.2f", Date().timeIntervalSince(started))) s (\(mode) mode)")
sleep(3)
let idleStart = agentUsage()
sleep(10)
let idleEnd = agentUsage()

let breaking = Array(names.shuffled().prefix(brokenCount))
var changed: [String: Date] = [:]
let burstStart = agentUsage()
let burstStarted = Date()
for name in breaking {
    try emulator.store.update(.pods, namespace: "bench", name: name) { $0["status"] = PodFixtures.brokenStatus(podIP: "10.0.0.1") }
    changed[name] = Date()
}
while clock.count < brokenCount && Date().timeIntervalSince(burstStarted) < 60 { usleep(1000) }
let burstSeconds = Date().timeIntervalSince(burstStarted)
let burstEnd = agentUsage()

let latencies = breaking.compactMap { name -> Double? in
    guard let done = clock.time(name), let start = changed[name] else { return nil }
    return done.timeIntervalSince(start) * 1000
}.sorted()
func percentile(_ p: Double) -> Double { latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)] }
print(String(format: "status change → %@ (ms, n=%d of %d): median %.1f  p90 %.1f  p99 %.1f  max %.1f", mode, latencies.count, brokenCount,
             percentile(0.5), percentile(0.9), percentile(0.99), latencies.last ?? .nan))
print(String(format: "agent idle: RSS %.1f MiB, CPU %.2f%% of one core over 10 s", idleEnd.rssMiB, (idleEnd.cpu - idleStart.cpu) / 10 * 100))
print(String(format: "agent burst: RSS %.1f MiB, CPU %.2f s over %.2f s (%.0f%% of one core)", burstEnd.rssMiB, burstEnd.cpu - burstStart.cpu, burstSeconds,
             (burstEnd.cpu - burstStart.cpu) / max(burstSeconds, 0.001) * 100))
