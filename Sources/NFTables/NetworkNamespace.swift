import CNetnsShim
import Glibc

/// An open handle on a container's network namespace. Work inside it runs on a dedicated thread that
/// enters the namespace and then ends, so no thread of this process (and never a Swift concurrency
/// thread) is ever left in a foreign namespace. Netlink sockets opened there stay bound to it.
public final class NetworkNamespace: Sendable {
    public let path: String
    let descriptor: Int32

    /// Opens `path` and checks that it is a network namespace other than the plugin's own (writing
    /// rules into the namespace the runtime runs in would change the node's own netfilter state).
    public init(path: String) throws(NFTablesError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw code == ENOENT
                ? NFTablesError(.namespaceMissing, "open", path, errno: code, detail: "the network namespace does not exist")
                : NFTablesError.system("open", path, errno: code)
        }
        var target = stat()
        var own = stat()
        guard fstat(fd, &target) == 0, stat("/proc/self/ns/net", &own) == 0 else {
            let code = errno
            close(fd)
            throw NFTablesError.system("stat", path, errno: code)
        }
        if target.st_dev == own.st_dev && target.st_ino == own.st_ino {
            close(fd)
            throw NFTablesError(.invalidNamespace, "open", path, detail: "this is the plugin's own network namespace (the node's), refusing to change it")
        }
        descriptor = fd
    }

    deinit {
        close(descriptor)
    }

    /// Runs `body` on a new thread inside this namespace and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws(NFTablesError) -> T) throws(NFTablesError) -> T {
        let job = NamespaceJob(descriptor: descriptor, path: path) { () throws(NFTablesError) -> any Sendable in try body() }
        try job.runOnNewThread()
        switch job.outcome {
        case .success(let value as T): return value
        case .failure(let error): throw error
        default: throw NFTablesError(.system, "pthread_join", path, detail: "namespace thread returned no result")
        }
    }
}

/// The work handed to the namespace thread; its outcome is read only after `pthread_join`.
private final class NamespaceJob: @unchecked Sendable {
    let descriptor: Int32
    let path: String
    let body: @Sendable () throws(NFTablesError) -> any Sendable
    var outcome: Result<any Sendable, NFTablesError>?

    init(descriptor: Int32, path: String, body: @escaping @Sendable () throws(NFTablesError) -> any Sendable) {
        self.descriptor = descriptor
        self.path = path
        self.body = body
    }

    func runInsideNamespace() {
        guard cnetns_enter_network_namespace(descriptor) == 0 else {
            let code = errno
            outcome = .failure(code == EINVAL
                ? NFTablesError(.invalidNamespace, "setns", path, errno: code, detail: "not a network namespace")
                : NFTablesError.system("setns", path, errno: code))
            return
        }
        do throws(NFTablesError) {
            outcome = .success(try body())
        } catch {
            outcome = .failure(error)
        }
    }

    func runOnNewThread() throws(NFTablesError) {
        var thread = pthread_t()
        let retained = Unmanaged.passRetained(self).toOpaque()
        let created = pthread_create(&thread, nil, { argument in
            guard let argument else { return nil }
            Unmanaged<NamespaceJob>.fromOpaque(argument).takeRetainedValue().runInsideNamespace()
            return nil
        }, retained)
        guard created == 0 else {
            Unmanaged<NamespaceJob>.fromOpaque(retained).release()
            throw NFTablesError.system("pthread_create", path, errno: created)
        }
        pthread_join(thread, nil)
    }
}
