import JSON
import Synchronization

/// Everything the agent puts on the node (binaries, the plugin's kubeconfig, our CNI config entry),
/// brought into place, checked, and removed again on uninstall. Steps run in the order that keeps the
/// node working at every moment: the binary exists before any config names it, and on removal the
/// config entry goes before the binary.
public final class Installer: Sendable {
    public let configuration: AgentConfiguration
    let binaries: BinaryInstaller
    let kubeconfig: KubeconfigWriter
    private let state: Mutex<InstallState>

    public init(configuration: AgentConfiguration) {
        self.configuration = configuration
        binaries = BinaryInstaller(sourceDirectory: configuration.cniBinSourceDir, targetDirectories: configuration.cniBinDirs,
                                   skip: Set(configuration.skipCNIBinaries), replaceDifferent: configuration.updateCNIBinaries)
        kubeconfig = KubeconfigWriter(configuration: configuration)
        state = Mutex(InstallState.load(runDirectory: configuration.runDirectory))
    }

    /// What one pass changed.
    public struct Pass: Sendable, Equatable {
        public var written: [String] = []
        public var removed: [String] = []
        /// The config file that carries our entry now.
        public var configPath: String?
    }

    /// Brings every piece into place; writes only what differs.
    public func reconcile() throws(InstallError) -> Pass {
        var pass = Pass()
        do {
            try FileSystem.makeDirectory(configuration.runDirectory, mode: 0o700)
        } catch {
            throw InstallError(.kubeconfig, "creating the run dir: \(error)")
        }
        pass.written += try binaries.install()
        if try kubeconfig.install() { pass.written.append(kubeconfig.path) }
        try reconcileConfig(&pass)
        return pass
    }

    /// Why the node is not fully installed (empty when binaries, kubeconfig and config are all in place).
    public func problems() -> [String] {
        var problems = binaries.problems() + kubeconfig.problems()
        if configuration.chained {
            switch PrimaryConfigLocator(directory: configuration.mountedCNINetDir, forcedName: configuration.cniConfName).locate() {
            case .none(let reason):
                problems.append(reason)
            case .file(let path):
                let ours = state.withLock { $0.configPath }
                if path != ours { problems.append("\(path) is the primary CNI config now, not \(ours ?? "the file we chained into")") }
                if !ChainedConfigEditor.holdsExactly(PluginEntry.chained(configuration), content: FileSystem.readIfPresent(path) ?? []) {
                    problems.append("\(path) does not end with exactly our istio-cni entry")
                }
            }
        } else {
            let path = configuration.standaloneConfigPath
            if FileSystem.readIfPresent(path) != ChainedConfigEditor.serialize(PluginEntry.standalone(configuration)) {
                problems.append("\(path) is missing or not our standalone config")
            }
        }
        return problems
    }

    /// Removes our config entry first (new pods stop calling the plugin), then the kubeconfig, then
    /// the binaries. A .conf we had turned into a .conflist is turned back.
    public func uninstall() -> Pass {
        var pass = Pass()
        let recorded = state.withLock { $0 }
        if configuration.chained {
            if let path = recorded.configPath { pass.removed += removeEntry(from: path, recorded: recorded) }
        } else if FileSystem.exists(configuration.standaloneConfigPath), (try? FileSystem.remove(configuration.standaloneConfigPath)) != nil {
            pass.removed.append(configuration.standaloneConfigPath)
        }
        if kubeconfig.uninstall() { pass.removed.append(kubeconfig.path) }
        pass.removed += binaries.uninstall()
        state.withLock { $0 = InstallState() }
        try? FileSystem.remove(configuration.runDirectory + "/" + InstallState.fileName)
        return pass
    }

    // MARK: The CNI config

    private func reconcileConfig(_ pass: inout Pass) throws(InstallError) {
        guard configuration.chained else {
            let path = configuration.standaloneConfigPath
            let wanted = ChainedConfigEditor.serialize(PluginEntry.standalone(configuration))
            if FileSystem.readIfPresent(path) != wanted {
                do { try AtomicFile.write(wanted, to: path, mode: FileSystem.status(path)?.mode ?? 0o600) } catch {
                    throw InstallError(.cniConfig, "writing \(path): \(error)")
                }
                pass.written.append(path)
            }
            pass.configPath = path
            return
        }
        let located: String
        switch PrimaryConfigLocator(directory: configuration.mountedCNINetDir, forcedName: configuration.cniConfName).locate() {
        case .none(let reason): throw InstallError(.cniConfig, reason)
        case .file(let path): located = path
        }
        let recorded = state.withLock { $0 }
        // A higher-priority config appeared (or CNI_CONF_NAME changed): take our entry out of the old one.
        if let previous = recorded.configPath, previous != located, previous != ChainedConfigEditor.listPath(for: located) {
            pass.removed += removeEntry(from: previous, recorded: recorded)
        }
        let content: [UInt8]
        do { content = try FileSystem.read(located) } catch { throw InstallError(.cniConfig, "reading \(located): \(error)") }
        let insertion = try ChainedConfigEditor.insert(PluginEntry.chained(configuration), into: located, content: content)
        let mode = FileSystem.status(located)?.mode ?? 0o644
        if FileSystem.readIfPresent(insertion.path) != insertion.content {
            do { try AtomicFile.write(insertion.content, to: insertion.path, mode: mode) } catch {
                throw InstallError(.cniConfig, "writing \(insertion.path): \(error)")
            }
            pass.written.append(insertion.path)
        }
        var next = InstallState(configPath: insertion.path)
        if let single = insertion.replacedSingleConfig {
            next.replacedSingleConfig = single
            next.replacedSingleContent = content
        } else if recorded.configPath == insertion.path {
            next.replacedSingleConfig = recorded.replacedSingleConfig
            next.replacedSingleContent = recorded.replacedSingleContent
        }
        // The state is saved before the single .conf goes, so a crash in between still knows how to undo.
        try save(next)
        if let single = insertion.replacedSingleConfig {
            do { try FileSystem.remove(single) } catch { throw InstallError(.cniConfig, "removing \(single) after wrapping it: \(error)") }
            pass.removed.append(single)
        }
        pass.configPath = insertion.path
    }

    private func save(_ next: InstallState) throws(InstallError) {
        do { try next.save(runDirectory: configuration.runDirectory) } catch {
            throw InstallError(.cniConfig, "recording the install state: \(error)")
        }
        state.withLock { $0 = next }
    }

    /// Takes our entry out of `path`; a list we made from a single .conf becomes that .conf again.
    private func removeEntry(from path: String, recorded: InstallState) -> [String] {
        if let single = recorded.replacedSingleConfig, let original = recorded.replacedSingleContent, path == ChainedConfigEditor.listPath(for: single) {
            // Its owner wrote the .conf again meanwhile: that one is current, ours only has to go.
            if FileSystem.exists(single) {
                try? FileSystem.remove(path)
                return [path]
            }
            let mode = FileSystem.status(path)?.mode ?? 0o644
            guard (try? AtomicFile.write(original, to: single, mode: mode)) != nil else { return [] }
            try? FileSystem.remove(path)
            return [path]
        }
        guard let content = FileSystem.readIfPresent(path), let without = ChainedConfigEditor.removingEntry(from: content) else { return [] }
        let mode = FileSystem.status(path)?.mode ?? 0o644
        return (try? AtomicFile.write(without, to: path, mode: mode)) != nil ? [path] : []
    }
}
