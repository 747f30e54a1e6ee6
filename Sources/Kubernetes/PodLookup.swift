import Glibc

/// Fetches a pod with retries inside a total time budget (exponential backoff with jitter, honouring
/// `Retry-After`). The kubeconfig is re-read on every attempt: the node agent may write it late (node
/// start) or rewrite it with a rotated token. When the budget runs out, the error names the pod and
/// the last failure.
public struct PodLookup: Sendable {
    public let kubeconfigPath: String
    public let budgetMilliseconds: Int64
    /// TLS session cache shared by plugin processes (see `TLSConnection`); nil disables resumption.
    public var sessionCachePath: String?
    public var firstBackoffMilliseconds: Int64 = 100
    public var maximumBackoffMilliseconds: Int64 = 2000
    /// One attempt never holds the whole budget, so a hung server leaves time to retry.
    public var maximumAttemptMilliseconds: Int64 = 10_000

    public init(kubeconfigPath: String, budgetMilliseconds: Int64) {
        self.kubeconfigPath = kubeconfigPath
        self.budgetMilliseconds = budgetMilliseconds
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let last: KubernetesError
        public let attempts: Int
        public let elapsedMilliseconds: Int64
        /// False when the failure cannot heal by retrying (broken or unreadable kubeconfig).
        public let budgetExhausted: Bool
        public var description: String { last.message }
    }

    public func fetch(namespace: String, name: String, onRetry: (KubernetesError, Int) -> Void = { _, _ in }) throws(Failure) -> Pod {
        let start = MonotonicClock.now
        let end = start.adding(milliseconds: budgetMilliseconds)
        var backoff = firstBackoffMilliseconds
        var attempts = 0
        while true {
            attempts += 1
            let attemptDeadline = min(end, MonotonicClock.now.adding(milliseconds: maximumAttemptMilliseconds))
            do throws(KubernetesError) {
                let client = KubernetesClient(config: try Kubeconfig.load(path: kubeconfigPath), sessionCachePath: sessionCachePath)
                return try Pod(json: try client.get(KubernetesClient.podPath(namespace: namespace, name: name), deadline: attemptDeadline))
            } catch {
                let elapsed = MonotonicClock.now.milliseconds(since: start)
                guard error.isRetryable else {
                    throw Failure(last: error, attempts: attempts, elapsedMilliseconds: elapsed, budgetExhausted: false)
                }
                var wait = backoff - backoff / 5 + Int64.random(in: 0...max(1, backoff * 2 / 5))
                if case .http(_, let retryAfter?) = error.kind {
                    // The server's word is a floor on the wait; one that reaches past the bound means
                    // failing now rather than sleeping out the budget to fail then.
                    let left = end.milliseconds(since: MonotonicClock.now)
                    let asked = Int64(retryAfter) * 1000
                    if asked >= left {
                        let last = KubernetesError(error.kind, "\(error.message) (it asked to retry after \(retryAfter) s, "
                                                   + "past the lookup bound: \(max(0, left) / 1000) s left)")
                        throw Failure(last: last, attempts: attempts, elapsedMilliseconds: elapsed, budgetExhausted: true)
                    }
                    wait = max(wait, asked)
                }
                if MonotonicClock.now.adding(milliseconds: wait) >= end {
                    throw Failure(last: error, attempts: attempts, elapsedMilliseconds: elapsed, budgetExhausted: true)
                }
                onRetry(error, attempts)
                sleepMilliseconds(wait)
            }
            backoff = min(backoff * 2, maximumBackoffMilliseconds)
        }
    }

    private func sleepMilliseconds(_ milliseconds: Int64) {
        var request = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
    }
}
