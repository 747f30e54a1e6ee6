import CSocketShim

/// A local TCP port where nothing listens and nothing else can start to while this exists, for
/// "API server refuses connections" tests (a stopped server's port could be reused by another test).
public final class RefusingPort: @unchecked Sendable {
    private let descriptor: Int32
    public let port: UInt16

    public init() throws {
        let fd = csock_bind_without_listening("127.0.0.1")
        var text = [CChar](repeating: 0, count: 64)
        guard fd >= 0, csock_local(fd, &text, text.count) >= 0,
              let port = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                .split(separator: ":").last.flatMap({ UInt16($0) }) else {
            throw CommandError(command: ["bind"], result: CommandResult(status: -1, stdout: "", stderr: "cannot reserve a port"))
        }
        descriptor = fd
        self.port = port
    }

    deinit { csock_close(descriptor) }
}
