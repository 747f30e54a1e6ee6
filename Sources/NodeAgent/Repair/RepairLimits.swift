import Synchronization

/// Per-pod exponential backoff: the first action on a pod is immediate; each later one (the pod broke
/// again after a delete and was recreated under the same name, or the action failed) waits twice as
/// long as the one before, up to `maximum`. A pod left alone for `forgetAfter` starts over.
final class PerPodBackoff: Sendable {
    struct Entry {
        var actions: Int
        var notBefore: ContinuousClock.Instant
        var last: ContinuousClock.Instant
    }

    let initial: Duration
    let maximum: Duration
    let forgetAfter: Duration
    private let entries = Mutex<[String: Entry]>([:])

    init(initial: Duration = .seconds(1), maximum: Duration = .seconds(300), forgetAfter: Duration = .seconds(900)) {
        self.initial = initial
        self.maximum = maximum
        self.forgetAfter = forgetAfter
    }

    /// How long `key` must still wait before its next action (zero: act now).
    func wait(for key: String, now: ContinuousClock.Instant = .now) -> Duration {
        entries.withLock { entries in
            guard let entry = entries[key] else { return .zero }
            if now - entry.last > forgetAfter {
                entries[key] = nil
                return .zero
            }
            return max(.zero, entry.notBefore - now)
        }
    }

    /// An action was taken (or tried) on `key`: the next one waits longer.
    func recordAction(_ key: String, now: ContinuousClock.Instant = .now) {
        entries.withLock { entries in
            let actions = (entries[key]?.actions ?? 0) + 1
            var delay = initial
            for _ in 1..<actions where delay < maximum { delay = delay * 2 }
            entries[key] = Entry(actions: actions, notBefore: now + min(delay, maximum), last: now)
        }
    }

    var trackedCount: Int { entries.withLock { $0.count } }
}

/// A token bucket shared by every action on the node: `burst` at once, then `perSecond`.
final class ActionRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let perSecond: Double
    let burst: Double
    private let bucket: Mutex<Bucket>

    init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = Double(burst)
        bucket = Mutex(Bucket(tokens: Double(burst), updated: .now))
    }

    /// Takes a token, first waiting until one is there.
    func acquire() async {
        while true {
            let wait = bucket.withLock { bucket -> Duration in
                let now = ContinuousClock.now
                let elapsed = now - bucket.updated
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                bucket.tokens = min(burst, bucket.tokens + seconds * perSecond)
                bucket.updated = now
                if bucket.tokens >= 1 {
                    bucket.tokens -= 1
                    return .zero
                }
                return .milliseconds(Int(((1 - bucket.tokens) / perSecond * 1000).rounded(.up)))
            }
            if wait == .zero { return }
            try? await Task.sleep(for: wait)
            if Task.isCancelled { return }
        }
    }
}
