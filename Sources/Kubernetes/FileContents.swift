import Glibc

/// Reads small configuration files (kubeconfig, CA, token) without Foundation.
enum FileContents {
    static let maximumBytes = 4 * 1024 * 1024

    static func read(_ path: String, what: String) throws(KubernetesError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            let reason = String(cString: strerror(code))
            throw code == ENOENT
                ? KubernetesError(.kubeconfigMissing, "\(what) \(path) does not exist")
                : KubernetesError(.kubeconfigUnreadable, "\(what) \(path) cannot be read: \(reason)")
        }
        defer { close(fd) }
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = Glibc.read(fd, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw KubernetesError(.kubeconfigUnreadable, "\(what) \(path) cannot be read: \(String(cString: strerror(errno)))")
            }
            if count == 0 { return content }
            content += chunk[0..<count]
            if content.count > maximumBytes {
                throw KubernetesError(.kubeconfigInvalid, "\(what) \(path) is larger than \(maximumBytes) bytes")
            }
        }
    }
}
