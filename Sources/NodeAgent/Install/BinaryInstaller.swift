import Glibc

/// Puts the plugin (and the libraries it carries in `istio-cni-libs/`) into every CNI bin dir, each
/// file atomically, skipping files that are already identical.
struct BinaryInstaller: Sendable {
    /// The directory beside the plugin that its `$ORIGIN` rpath names.
    static let libraryDirectory = "istio-cni-libs"

    let sourceDirectory: String
    let targetDirectories: [String]
    let skip: Set<String>
    let replaceDifferent: Bool

    /// A file to install, relative to the bin dir ("istio-cni", "istio-cni-libs/libmnl.so.0").
    struct Item: Equatable {
        let relativePath: String
        let mode: UInt32
    }

    /// Libraries first, so a plugin binary in place can always load them.
    func items() throws(InstallError) -> [Item] {
        guard FileSystem.status(sourceDirectory)?.isDirectory == true else {
            throw InstallError(.binaries, "the plugin source directory \(sourceDirectory) does not exist")
        }
        var libraries: [Item] = []
        var binaries: [Item] = []
        for name in FileSystem.list(sourceDirectory) where !name.hasPrefix(".") && !skip.contains(name) {
            let path = sourceDirectory + "/" + name
            guard let status = FileSystem.status(path) else { continue }
            if status.isRegularFile {
                binaries.append(Item(relativePath: name, mode: status.mode))
            } else if status.isDirectory, name == Self.libraryDirectory {
                for library in FileSystem.list(path) where !library.hasPrefix(".") {
                    if let libraryStatus = FileSystem.status(path + "/" + library), libraryStatus.isRegularFile {
                        libraries.append(Item(relativePath: name + "/" + library, mode: libraryStatus.mode))
                    }
                }
            }
        }
        guard !binaries.isEmpty else { throw InstallError(.binaries, "no plugin binaries in \(sourceDirectory)") }
        return libraries + binaries
    }

    /// Installs what differs; returns the target paths written.
    @discardableResult
    func install() throws(InstallError) -> [String] {
        let items = try items()
        var written: [String] = []
        for target in targetDirectories {
            guard FileSystem.status(target)?.isDirectory == true else {
                throw InstallError(.binaries, "CNI bin dir \(target) does not exist (is it mounted from the host?)")
            }
            AtomicFile.removeStaleTemporaries(in: target)
            if items.contains(where: { $0.relativePath.hasPrefix(Self.libraryDirectory + "/") }) {
                do { try FileSystem.makeDirectory(target + "/" + Self.libraryDirectory, mode: 0o755) } catch {
                    throw InstallError(.binaries, "\(error)")
                }
                AtomicFile.removeStaleTemporaries(in: target + "/" + Self.libraryDirectory)
            }
            for item in items {
                let destination = target + "/" + item.relativePath
                do {
                    let source = try FileSystem.read(sourceDirectory + "/" + item.relativePath)
                    if let existing = FileSystem.readIfPresent(destination) {
                        if existing == source, FileSystem.status(destination)?.mode == item.mode { continue }
                        if !replaceDifferent { continue }
                    }
                    try AtomicFile.write(source, to: destination, mode: item.mode)
                    written.append(destination)
                } catch {
                    throw InstallError(.binaries, "installing \(destination): \(error)" + Self.readOnlyHint(error))
                }
            }
        }
        return written
    }

    /// What is missing or different in the bin dirs (empty: all in place).
    func problems() -> [String] {
        guard let items = try? items() else { return ["plugin source directory \(sourceDirectory) is unusable"] }
        var problems: [String] = []
        for target in targetDirectories {
            for item in items {
                let destination = target + "/" + item.relativePath
                guard let status = FileSystem.status(destination) else {
                    problems.append("\(destination) is missing")
                    continue
                }
                let sourceSize = FileSystem.status(sourceDirectory + "/" + item.relativePath)?.size
                if replaceDifferent, status.size != sourceSize { problems.append("\(destination) differs from the agent's copy") }
            }
        }
        return problems
    }

    /// Removes only what we install: the plugin binary first (runtimes then no longer find it), then
    /// its libraries.
    func uninstall() -> [String] {
        guard let items = try? items() else { return [] }
        var removed: [String] = []
        for target in targetDirectories {
            for item in items.reversed() {
                let destination = target + "/" + item.relativePath
                if FileSystem.exists(destination), (try? FileSystem.remove(destination)) != nil { removed.append(destination) }
            }
            let libraries = target + "/" + Self.libraryDirectory
            if FileSystem.list(libraries).isEmpty { try? FileSystem.removeDirectory(libraries) }
        }
        return removed
    }

    private static func readOnlyHint(_ error: FileSystemError) -> String {
        error.errno == EROFS ? " (the bin dir is read-only: set values.cni.cniBinDir to a writable host directory for this platform)" : ""
    }
}
