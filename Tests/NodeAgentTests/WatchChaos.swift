import Foundation
import KubeEmulator

/// Cuts the emulator's watches at random moments (every 30–250 ms) and, every fourth cut, first
/// compacts the history so the agent's resume gets 410 Gone and must list again — until stopped.
final class WatchChaos: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private let finished = DispatchGroup()
    private(set) var cuts = 0

    init(_ emulator: KubeEmulator) {
        DispatchQueue.global().async(group: finished) { [self] in
            var round = 0
            while !lock.withLock({ stopped }) {
                usleep(UInt32.random(in: 30_000...250_000))
                round += 1
                if round % 4 == 0 { emulator.store.compactHistory() }
                emulator.cutWatches()
                lock.withLock { cuts += 1 }
            }
        }
    }

    func stop() {
        lock.withLock { stopped = true }
        finished.wait()
    }

    deinit { stop() }
}
