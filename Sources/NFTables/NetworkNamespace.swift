import CNetnsShim
import Glibc

/// An open handle on a container's network namespace. Work inside it runs on a dedicated thread that
/// enters the namespace and then ends, so no thread of this process (and never a Swift concurrency
/// thread) is ever left in a foreign namespace. Netlink sockets opened there stay bound to it.
public final class NetworkNamespace: Sendable {
    public let path: String
    let descriptor: Int32
    private let device: UInt64
    private let inode: UInt64

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
        device = UInt64(target.st_dev)
        inode = UInt64(target.st_ino)
    }

    /// Whether `path` still names the namespace this handle holds. The runtime tears a sandbox down
    /// by unmounting its netns file; our descriptor keeps the namespace alive, so without this check
    /// an ADD racing the teardown would report success for rules nobody will ever use.
    public var isStillAtPath: Bool {
        var current = stat()
        return stat(path, &current) == 0 && UInt64(current.st_dev) == device && UInt64(current.st_ino) == inode
    }

    deinit {
        close(descriptor)
    }

    /// Runs `body` on a new thread inside this namespace and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws(NFTablesError) -> T) throws(NFTablesError) -> T {
        let outcome = ThreadOutcome<T>()
        let thread = try start { () throws(NFTablesError) in outcome.value = try body() }
        try thread.join()
        guard let value = outcome.value else {
            throw NFTablesError(.system, "pthread_join", path, detail: "namespace thread returned no result")
        }
        return value
    }

    /// Starts `body` on a new thread that has entered this namespace; `join` waits for it and
    /// rethrows what it threw (or the failure to enter the namespace).
    func start(_ body: @escaping @Sendable () throws(NFTablesError) -> Void) throws(NFTablesError) -> NamespaceThread {
        let thread = NamespaceThread(descriptor: descriptor, path: path, body: body)
        try thread.launch()
        return thread
    }
}

/// A value handed from a namespace thread to the thread that joins it.
final class ThreadOutcome<T>: @unchecked Sendable {
    var value: T?
}

/// One thread inside a namespace. Its failure is read only after `pthread_join`.
final class NamespaceThread: @unchecked Sendable {
    private let descriptor: Int32
    private let path: String
    private let body: @Sendable () throws(NFTablesError) -> Void
    private var failure: NFTablesError?
    private var thread = pthread_t()
    private var joined = true

    init(descriptor: Int32, path: String, body: @escaping @Sendable () throws(NFTablesError) -> Void) {
        self.descriptor = descriptor
        self.path = path
        self.body = body
    }

    /// Namespace work needs little stack; a small one is cheaper to map and unmap than the 8 MiB default.
    static let stackSize = 512 * 1024

    fileprivate func launch() throws(NFTablesError) {
        let retained = Unmanaged.passRetained(self).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, Self.stackSize)
        let created = pthread_create(&thread, &attributes, { argument in
            guard let argument else { return nil }
            Unmanaged<NamespaceThread>.fromOpaque(argument).takeRetainedValue().runInsideNamespace()
            return nil
        }, retained)
        guard created == 0 else {
            Unmanaged<NamespaceThread>.fromOpaque(retained).release()
            throw NFTablesError.system("pthread_create", path, errno: created)
        }
        joined = false
    }

    func join() throws(NFTablesError) {
        if !joined {
            pthread_join(thread, nil)
            joined = true
        }
        if let failure { throw failure }
    }

    private func runInsideNamespace() {
        guard cnetns_enter_network_namespace(descriptor) == 0 else {
            let code = errno
            failure = code == EINVAL
                ? NFTablesError(.invalidNamespace, "setns", path, errno: code, detail: "not a network namespace")
                : NFTablesError.system("setns", path, errno: code)
            return
        }
        do throws(NFTablesError) {
            try body()
        } catch {
            failure = error
        }
    }
}
