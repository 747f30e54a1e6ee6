import Glibc

/// Serialises the calls that change one sandbox's rules (ADD's write, DEL) with an exclusive `flock`
/// on `<run dir>/sandboxes/<container ID>.lock`. Without it a DEL landing in the middle of an ADD
/// could remove the half written so far (say TPROXY's route) and leave the rest. Held until
/// `release` or deinit; the kernel drops it if the process dies.
public final class SandboxLock {
    /// How long a call waits for another call on the same sandbox (an ADD can spend its whole pod
    /// lookup bound before it writes, but it takes the lock only after the lookup).
    public static let waitMilliseconds = 30_000

    private var descriptor: Int32
    private let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { release() }

    public enum Failure: Error {
        /// The lock file could not be made (no writable run dir): go on without it.
        case unavailable(String)
        /// Another call held the lock for longer than `waitMilliseconds`.
        case timedOut
    }

    public static func acquire(runDirectory: String, containerID: String,
                               waitMilliseconds: Int = waitMilliseconds) throws(Failure) -> SandboxLock {
        let directory = SandboxRecord.directory(runDirectory: runDirectory)
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { throw .unavailable("mkdir \(directory): \(String(cString: strerror(errno)))") }
        let path = directory + "/" + containerID + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw .unavailable("open \(path): \(String(cString: strerror(errno)))") }
        var waited = 0
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, waited < waitMilliseconds else {
                close(descriptor)
                throw .timedOut
            }
            usleep(2_000)
            waited += 2
        }
        return SandboxLock(descriptor: descriptor, path: path)
    }

    /// Releases the lock; with `removingFile` (the sandbox is gone: DEL) the lock file goes too.
    public func release(removingFile: Bool = false) {
        guard descriptor >= 0 else { return }
        if removingFile { unlink(path) }
        close(descriptor)
        descriptor = -1
    }
}
