import Glibc

/// Writes files the way the node's readers need them: the whole new content or the old, never a
/// truncated file. A temporary file in the same directory is written, fsynced, given its mode and
/// renamed over the target; then the directory is fsynced so the rename survives a crash. The runtime
/// never sees the temporary file: its name starts with a dot and does not end in .conf/.conflist/.json,
/// and it is never executed ("text file busy" is impossible: the target is replaced, not written).
enum AtomicFile {
    static let temporaryMarker = ".istio-cni-tmp."

    static func write(_ content: [UInt8], to path: String, mode: UInt32) throws(FileSystemError) {
        let directory = FileSystem.directoryOf(path)
        let temporary = directory + "/." + FileSystem.baseName(path) + temporaryMarker + String(getpid()) + "." + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode_t(mode))
        guard fd >= 0 else { throw FileSystemError(operation: "open", path: temporary, errno: errno) }
        var written = 0
        var failure: FileSystemError?
        while written < content.count {
            let count = Glibc.write(fd, Array(content[written...]), content.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                failure = FileSystemError(operation: "write", path: temporary, errno: errno)
                break
            }
            written += count
        }
        // The umask may have narrowed the mode at create time; the intended mode is set explicitly.
        if failure == nil, fchmod(fd, mode_t(mode)) != 0 { failure = FileSystemError(operation: "fchmod", path: temporary, errno: errno) }
        if failure == nil, fsync(fd) != 0 { failure = FileSystemError(operation: "fsync", path: temporary, errno: errno) }
        if close(fd) != 0, failure == nil { failure = FileSystemError(operation: "close", path: temporary, errno: errno) }
        if let failure {
            unlink(temporary)
            throw failure
        }
        guard Glibc.rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw FileSystemError(operation: "rename", path: "\(temporary) -> \(path)", errno: code)
        }
        syncDirectory(directory)
    }

    /// Removes temporary files an earlier agent left behind when it was killed mid-write.
    @discardableResult
    static func removeStaleTemporaries(in directory: String) -> [String] {
        let stale = FileSystem.list(directory).filter { $0.hasPrefix(".") && $0.contains(temporaryMarker) }
        for name in stale { try? FileSystem.remove(directory + "/" + name) }
        return stale
    }

    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
