import Synchronization

/// "Something changed", from any thread to one waiting task, with a timeout. Changes that arrive while
/// nobody waits are remembered (once), so none is lost between two waits.
final class ChangeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Bool, Never>?
        var generation = 0
    }

    private let state = Mutex(State())

    func notify() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: true)
    }

    /// True when a change came (or was pending), false after `seconds` without one or on cancellation.
    func wait(seconds: Double) async -> Bool {
        if state.withLock({ state in defer { state.pending = false }; return state.pending }) { return true }
        let generation = state.withLock { state -> Int in
            state.generation += 1
            return state.generation
        }
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            self.expire(generation)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool? in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    if state.generation != generation { return false }
                    state.waiter = continuation
                    return nil
                }
                if let resumeNow { continuation.resume(returning: resumeNow) }
            }
        } onCancel: {
            expire(generation)
        }
    }

    private func expire(_ generation: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard state.generation == generation, let waiter = state.waiter else {
                if state.generation == generation { state.generation += 1 }
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: false)
    }
}
