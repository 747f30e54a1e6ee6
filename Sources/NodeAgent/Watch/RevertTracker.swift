/// Notices a fight: another component that keeps undoing our work on one file. Istio's installer
/// rewrites as fast as the other side does; this one backs off once a file was reverted more than
/// `limit` times within `window` seconds, and says which file it is.
struct RevertTracker {
    let limit: Int
    let window: Double
    private var reverts: [String: [Double]] = [:]

    init(limit: Int = 5, window: Double = 60) {
        self.limit = limit
        self.window = window
    }

    /// Records that we had to rewrite `path` at `time` (seconds); returns how many times within the window.
    mutating func record(_ path: String, at time: Double) -> Int {
        var times = reverts[path, default: []].filter { time - $0 < window }
        times.append(time)
        reverts[path] = times
        return times.count
    }

    func isFighting(_ path: String, at time: Double) -> Bool {
        reverts[path, default: []].filter { time - $0 < window }.count > limit
    }

    /// How long to wait before the next rewrite of a file under fight: grows with the fight, at most 30 s.
    func backoff(_ path: String, at time: Double) -> Double {
        let count = reverts[path, default: []].filter { time - $0 < window }.count
        guard count > limit else { return 0 }
        return min(30, Double(1 << min(count - limit, 5)))
    }
}
