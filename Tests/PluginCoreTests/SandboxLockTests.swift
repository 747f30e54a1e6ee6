import Foundation
import PluginCore
import Testing

@Suite struct SandboxLockTests {
    @Test func aSecondHolderWaitsThenTimesOutAndGetsItAfterRelease() throws {
        let runDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("icni-lock-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: runDirectory) }

        let first = try SandboxLock.acquire(runDirectory: runDirectory, containerID: "sandbox1")
        #expect(throws: SandboxLock.Failure.self) { try SandboxLock.acquire(runDirectory: runDirectory, containerID: "sandbox1", waitMilliseconds: 50) }
        let other = try SandboxLock.acquire(runDirectory: runDirectory, containerID: "sandbox2", waitMilliseconds: 50)
        other.release()

        first.release(removingFile: true)
        #expect(!FileManager.default.fileExists(atPath: runDirectory + "/sandboxes/sandbox1.lock"))
        let again = try SandboxLock.acquire(runDirectory: runDirectory, containerID: "sandbox1", waitMilliseconds: 50)
        again.release()
    }

    @Test func anUnwritableRunDirectoryIsReportedNotFatal() {
        #expect(throws: SandboxLock.Failure.self) { try SandboxLock.acquire(runDirectory: "/proc/icni-no-such-dir", containerID: "sandbox1") }
    }
}
