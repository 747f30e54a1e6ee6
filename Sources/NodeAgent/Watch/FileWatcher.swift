import Foundation
import Glibc
import Synchronization

/// Changes in a set of directories, from inotify, handed in batches to `onChange` (on the watcher's own
/// thread). A directory
/// that does not exist yet (or was removed) is watched as soon as it appears; there is no polling of
/// file contents, only a once-a-second retry to add such missing watches.
final class FileWatcher: Sendable {
    struct Event: Sendable, Equatable {
        let directory: String
        let name: String
        var path: String { name.isEmpty ? directory : directory + "/" + name }
    }

    private static let mask = UInt32(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO
        | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

    let directories: [String]
    private let onChange: @Sendable ([Event]) -> Void
    private let inotify: Int32
    private let wakeup: (read: Int32, write: Int32)
    private let watches = Mutex<[Int32: String]>([:])
    private let stopped = Mutex(false)

    init(directories: [String], onChange: @escaping @Sendable ([Event]) -> Void) throws(FileSystemError) {
        self.directories = Array(Set(directories)).sorted()
        self.onChange = onChange
        inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard inotify >= 0 else { throw FileSystemError(operation: "inotify_init1", path: "", errno: errno) }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw FileSystemError(operation: "pipe", path: "", errno: errno) }
        wakeup = (fds[0], fds[1])
        addMissingWatches()
        let thread = Thread { [self] in loop() }
        thread.name = "inotify"
        thread.start()
    }

    func stop() {
        let first = stopped.withLock { value -> Bool in
            defer { value = true }
            return !value
        }
        guard first else { return }
        _ = Glibc.write(wakeup.write, [UInt8(1)], 1)
    }

    deinit {
        stop()
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !stopped.withLock({ $0 }) {
            var fds = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeup.read, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, 1000)
            if ready < 0, errno != EINTR { break }
            var batch: [Event] = []
            if ready > 0, fds[0].revents & Int16(POLLIN) != 0 {
                while true {
                    let count = read(inotify, &buffer, buffer.count)
                    if count <= 0 { break }
                    batch += parse(Array(buffer[0..<count]))
                }
            }
            batch += addMissingWatches()
            if !batch.isEmpty { onChange(batch) }
        }
        close(inotify)
        close(wakeup.read)
        close(wakeup.write)
    }

    /// Watches every directory that has none; a directory that appeared counts as a change in it.
    @discardableResult
    private func addMissingWatches() -> [Event] {
        let watched = Set(watches.withLock { $0.values })
        var appeared: [Event] = []
        for directory in directories where !watched.contains(directory) {
            let descriptor = inotify_add_watch(inotify, directory, Self.mask | UInt32(IN_ONLYDIR))
            guard descriptor >= 0 else { continue }
            watches.withLock { $0[descriptor] = directory }
            appeared.append(Event(directory: directory, name: ""))
        }
        return appeared
    }

    /// Decodes `struct inotify_event` records: wd, mask, cookie, len (4 bytes each), then len bytes of name.
    private func parse(_ bytes: [UInt8]) -> [Event] {
        func word(_ offset: Int) -> UInt32 {
            UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
        }
        var events: [Event] = []
        var offset = 0
        while offset + 16 <= bytes.count {
            let descriptor = Int32(bitPattern: word(offset))
            let mask = word(offset + 4)
            let length = Int(word(offset + 12))
            let nameBytes = bytes[(offset + 16)..<min(bytes.count, offset + 16 + length)].prefix { $0 != 0 }
            offset += 16 + length
            guard let directory = watches.withLock({ $0[descriptor] }) else { continue }
            if mask & UInt32(IN_IGNORED) != 0 {
                // The directory went away; it is watched again once it exists.
                watches.withLock { _ = $0.removeValue(forKey: descriptor) }
                events.append(Event(directory: directory, name: ""))
                continue
            }
            let name = String(decoding: nameBytes, as: UTF8.self)
            if name.contains(AtomicFile.temporaryMarker) { continue }
            events.append(Event(directory: directory, name: name))
        }
        return events
    }
}
