import Foundation
import Glibc

/// A failed file operation: what was done to which path, and the errno's text.
public struct FileSystemError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let errno: Int32

    public var description: String { "\(operation)(\(path)): \(String(cString: strerror(errno)))" }
}

/// The file operations the installer needs, on plain paths, with errors that name the path.
enum FileSystem {
    static func read(_ path: String, limit: Int = 64 * 1024 * 1024) throws(FileSystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let count = Glibc.read(fd, &chunk, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(operation: "read", path: path, errno: errno)
            }
            if count == 0 { return content }
            content += chunk[0..<count]
            if content.count > limit { throw FileSystemError(operation: "read", path: path, errno: EFBIG) }
        }
    }

    /// nil when the file does not exist (or cannot be read).
    static func readIfPresent(_ path: String) -> [UInt8]? {
        try? read(path)
    }

    struct Status: Equatable {
        let mode: UInt32
        let size: Int
        let isRegularFile: Bool
        let isDirectory: Bool
    }

    /// Follows symlinks (a projected service-account token is one).
    static func status(_ path: String) -> Status? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Status(mode: UInt32(info.st_mode) & 0o7777, size: Int(info.st_size),
                      isRegularFile: info.st_mode & S_IFMT == S_IFREG, isDirectory: info.st_mode & S_IFMT == S_IFDIR)
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Names in a directory, sorted bytewise (the order libcni and Istio use); [] if it is missing.
    static func list(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    static func remove(_ path: String) throws(FileSystemError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw FileSystemError(operation: "unlink", path: path, errno: errno) }
    }

    static func removeDirectory(_ path: String) throws(FileSystemError) {
        for name in list(path) { try remove(path + "/" + name) }
        guard rmdir(path) == 0 || errno == ENOENT else { throw FileSystemError(operation: "rmdir", path: path, errno: errno) }
    }

    static func makeDirectory(_ path: String, mode: UInt32) throws(FileSystemError) {
        guard mkdir(path, mode_t(mode)) == 0 || errno == EEXIST else { throw FileSystemError(operation: "mkdir", path: path, errno: errno) }
    }

    static func rename(_ from: String, _ to: String) throws(FileSystemError) {
        guard Glibc.rename(from, to) == 0 else { throw FileSystemError(operation: "rename", path: "\(from) -> \(to)", errno: errno) }
    }

    static func directoryOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func baseName(_ path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }
}

