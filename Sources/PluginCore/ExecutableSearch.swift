import Glibc

/// Finds node binaries (the iptables tools) the way a shell would, over the runtime's PATH and then
/// the standard system directories, without running a shell.
struct ExecutableSearch: Sendable {
    static let systemDirectories = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"]

    let directories: [String]

    init(path: String?) {
        var seen: Set<String> = []
        directories = ((path ?? "").split(separator: ":").map(String.init) + Self.systemDirectories)
            .filter { $0.hasPrefix("/") && seen.insert($0).inserted }
    }

    func locate(_ name: String) -> String? {
        for directory in directories {
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
