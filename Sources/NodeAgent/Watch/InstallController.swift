import Foundation
import Logging
import ServiceLifecycle

/// Installs, then keeps the node installed: every change inotify reports in the CNI config dir, the bin
/// dirs or the service-account dir triggers a reconcile pass, which rewrites only what differs (so our
/// own writes and identical rewrites by others cost nothing). A file another component keeps reverting
/// is rewritten with growing delays and named in the log. Ends at graceful shutdown; what happens to the
/// installed files then is `ShutdownPolicy`'s decision.
final class InstallController: Service {
    let installer: Installer
    let status: AgentStatus
    let logger: Logger
    /// Seconds between passes when nothing changes, as a safety net.
    let resyncInterval: Double

    init(installer: Installer, status: AgentStatus, logger: Logger, resyncInterval: Double = 60) {
        self.installer = installer
        self.status = status
        self.logger = logger
        self.resyncInterval = resyncInterval
    }

    var watchedDirectories: [String] {
        let configuration = installer.configuration
        var directories = [configuration.mountedCNINetDir, configuration.serviceAccountDir, configuration.cniBinSourceDir]
            + configuration.cniBinDirs + configuration.cniBinDirs.map { $0 + "/" + BinaryInstaller.libraryDirectory }
        if let ca = configuration.kubeCAFile { directories.append(FileSystem.directoryOf(ca)) }
        return directories
    }

    func run() async throws {
        let signal = ChangeSignal()
        let watcher = try FileWatcher(directories: watchedDirectories) { _ in signal.notify() }
        defer { watcher.stop() }
        var tracker = RevertTracker()
        var lastFailure: String?
        var failureDelay = 0.5
        var first = true
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var wait = resyncInterval
            do {
                let pass = try installer.reconcile()
                lastFailure = nil
                failureDelay = 0.5
                if !pass.written.isEmpty || !pass.removed.isEmpty || first {
                    status.metrics.countInstall(result: "SUCCESS")
                    for path in pass.written { logger.info("installed \(path)") }
                    for path in pass.removed { logger.info("removed our entry from \(path)") }
                }
                if !first {
                    let delay = throttle(pass, tracker: &tracker)
                    if delay > 0 { try? await Task.sleep(for: .milliseconds(Int(delay * 1000))) }
                }
            } catch {
                status.metrics.countInstall(result: error.step.rawValue)
                if error.message != lastFailure { logger.error("install failed: \(error.message); retrying with backoff and whenever something changes") }
                lastFailure = error.message
                wait = failureDelay
                failureDelay = min(failureDelay * 2, 30)
            }
            first = false
            // The failure itself (disk full, read-only mount) says more than the missing file it left.
            let problems = installer.problems() + (lastFailure.map { ["last install attempt failed: \($0)"] } ?? [])
            status.setInstallProblems(problems)
            if problems.isEmpty, lastFailure == nil { logger.debug("installed and watching") }
            await nextChange(signal, within: wait)
        }
    }

    /// Records the rewrites of this pass; when one file is being fought over, says how long to wait
    /// before the next pass.
    private func throttle(_ pass: Installer.Pass, tracker: inout RevertTracker) -> Double {
        let now = Date().timeIntervalSince1970
        var delay = 0.0
        for path in pass.written where !path.hasSuffix("istio-cni-kubeconfig") {
            let count = tracker.record(path, at: now)
            if tracker.isFighting(path, at: now) {
                let backoff = tracker.backoff(path, at: now)
                logger.warning("another component keeps reverting \(path) (\(count) rewrites in the last minute); waiting \(Int(backoff)) s before restoring it again\(Self.hint(path))")
                delay = max(delay, backoff)
            }
        }
        return delay
    }

    private static func hint(_ path: String) -> String {
        if path.contains("cilium") { return " (Cilium: set cni.exclusive=false so it leaves other plugins' config alone)" }
        if path.contains("aws") { return " (aws-node rewrites its conflist when it restarts)" }
        return ""
    }

    /// Waits for the next file change (then lets a burst of changes settle for 50 ms), `seconds` at most,
    /// or until graceful shutdown begins.
    private func nextChange(_ signal: ChangeSignal, within seconds: Double) async {
        let changed = await cancelWhenGracefulShutdown { await signal.wait(seconds: seconds) }
        if changed == true { try? await Task.sleep(for: .milliseconds(50)) }
    }
}
