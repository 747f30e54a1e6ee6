import CNI
import CSocketShim
import Glibc
import Interception
import NFTables

/// `install-cni validate`, for the `istio-validation` init container: proves the pod's redirection is
/// in place before the application starts. As the proxy user it connects to 127.0.0.6:15002; with the
/// rules in place that connection is redirected to the inbound capture port, where our own listener
/// reads its original destination. No rules: the connection is refused, and after the timeout the
/// probe exits 126, the code the repair loop looks for.
public struct ValidationProbe: Sendable {
    public struct Options: Sendable {
        public var proxyUID: UInt32 = 1337
        public var proxyGID: UInt32 = 1337
        public var outboundPort: UInt16 = 15001
        public var inboundPort: UInt16 = 15006
        public var probePort: UInt16 = 15002
        public var timeoutSeconds = 5
        /// nil: probe IPv6 too when the pod gets IPv6 interception (Istio's rule: an IPv6-only pod, or
        /// ISTIO_DUAL_STACK in this container's environment and any IPv6 address).
        public var ipv6: Bool?
        public var terminationMessagePath = "/dev/termination-log"

        public init() {}
    }

    public enum Outcome: Sendable, Equatable {
        case passed(String)
        /// Exit 126.
        case notRedirected(String)
        /// Exit 1: the probe itself could not run.
        case unusable(String)

        public var exitCode: Int32 {
            switch self {
            case .passed: 0
            case .notRedirected: 126
            case .unusable: 1
            }
        }
    }

    public static let failureExitCode: Int32 = 126

    struct Family {
        let version: Int
        let listenAddress: String
        let probeAddress: String
    }

    let options: Options

    public init(options: Options) {
        self.options = options
    }

    public func run() -> Outcome {
        if geteuid() == 0 {
            // Started as root (outside a pod): become the proxy user, which also drops every capability.
            let result = csock_become(options.proxyUID, options.proxyGID)
            if result < 0 { return .unusable("cannot become uid \(options.proxyUID) gid \(options.proxyGID): \(String(cString: strerror(-result)))") }
        }
        var families = [Family(version: 4, listenAddress: "127.0.0.1", probeAddress: "127.0.0.6")]
        if options.ipv6 ?? Self.podGetsIPv6Interception() { families.append(Family(version: 6, listenAddress: "::1", probeAddress: "::6")) }

        var listeners: [Int32] = []
        defer { listeners.forEach { csock_close($0) } }
        for family in families {
            for port in [options.outboundPort, options.inboundPort] {
                let fd = csock_listen(family.listenAddress, Int32(family.version), Int32(CSOCK_TCP), port)
                if fd >= 0 { listeners.append(fd) }
            }
        }
        guard !listeners.isEmpty else {
            return .unusable("cannot listen on 127.0.0.1:\(options.outboundPort) or 127.0.0.1:\(options.inboundPort) (is something else using them?)")
        }

        let deadline = Self.now() + Double(options.timeoutSeconds)
        var pending = families
        var lastProblem: [Int: String] = [:]
        while !pending.isEmpty {
            let attemptStarted = Self.now()
            pending.removeAll { family in
                switch probe(family, listeners: listeners) {
                case nil: return true
                case let problem?: lastProblem[family.version] = problem; return false
                }
            }
            if pending.isEmpty || Self.now() >= deadline { break }
            let pause = min(1.0 - (Self.now() - attemptStarted), deadline - Self.now())
            if pause > 0 { usleep(UInt32(pause * 1_000_000)) }
            if Self.now() >= deadline { break }
        }
        let checked = families.map { "\($0.probeAddress):\(options.probePort)" }.joined(separator: " and ")
        guard !pending.isEmpty else {
            return .passed("istio-cni validation passed: connections to \(checked) as uid \(getuid()) were redirected to port \(options.inboundPort)")
        }
        let problems = pending.map { "\($0.probeAddress): \(lastProblem[$0.version] ?? "no answer")" }.joined(separator: "; ")
        let message = "istio-cni validation failed after \(options.timeoutSeconds) s: traffic redirection is not in place for this pod "
            + "(connections to \(checked) were not redirected to \(options.inboundPort): \(problems)). The istio-cni plugin did not program "
            + "this pod's network namespace, or its rules were removed. The istio-cni node agent's repair loop acts on pods whose "
            + "istio-validation container exits \(Self.failureExitCode): with repair.repairPods it programs the rules in place and this "
            + "container passes on its next restart; with repair.deletePods it deletes the pod so it is recreated; with repair.labelPods "
            + "it labels the pod cni.istio.io/uninitialized=true and leaves it for inspection."
        writeTerminationMessage(message)
        return .notRedirected(message)
    }

    /// One attempt for one address family: nil when redirected, else what happened.
    private func probe(_ family: Family, listeners: [Int32]) -> String? {
        // From the loopback address, as Istio's check does: for [::6] the kernel would pick ::6 itself as
        // the source, which the rules (rightly) let through as the proxy's inbound passthrough traffic.
        let client = csock_connect_from(family.listenAddress, family.probeAddress, options.probePort, Int32(CSOCK_TCP), 500)
        guard client >= 0 else { return "connect: \(String(cString: strerror(-client)))" }
        defer { csock_close(client) }
        let ready = csock_wait_any(listeners, Int32(listeners.count), 500)
        guard ready >= 0 else { return "connected, but to something other than our listeners (original port unknown)" }
        let accepted = csock_accept(listeners[Int(ready)])
        guard accepted >= 0 else { return "accept: \(String(cString: strerror(-accepted)))" }
        defer { csock_close(accepted) }
        var text = [CChar](repeating: 0, count: 128)
        let result = csock_original_destination(accepted, Int32(family.version), &text, text.count)
        guard result >= 0 else { return "no original destination on the redirected connection: \(String(cString: strerror(-result)))" }
        let original = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard original.hasSuffix(":\(options.probePort)") else { return "redirected, but the original destination was \(original)" }
        return nil
    }

    private func writeTerminationMessage(_ message: String) {
        let fd = open(options.terminationMessagePath, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { return }
        let bytes = Array(message.utf8)
        _ = write(fd, bytes, bytes.count)
        close(fd)
    }

    private static func podGetsIPv6Interception() -> Bool {
        let addresses = NamespaceAddresses.read(procNetDirectory: "/proc/self/net").filter { !$0.isLinkLocal }
        guard addresses.contains(where: { !$0.isIPv4 }) else { return false }
        let dualStack = getenv(ProxyEnvironment.dualStack).flatMap { parseGoBool(String(cString: $0)) } ?? false
        return dualStack || !addresses.contains(where: \.isIPv4)
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
