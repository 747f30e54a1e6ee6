import Synchronization

/// Misbehaviour the emulator can be told to show, for testing clients against a real-world API
/// server's failure modes.
public enum APIFault: Sendable, Equatable {
    /// Accept the request and never answer.
    case hang
    /// Send the status line, the headers and half of the body, then go silent with the connection open.
    case stallMidResponse
    /// Close the connection without answering.
    case closeConnection
    /// Answer with this status (a `Status` body), optionally with `Retry-After`.
    case status(Int, retryAfterSeconds: Int?)
    /// Answer 200 with a body that is not JSON.
    case garbageBody
    /// Answer as usual, but only after this many milliseconds (a slow or overloaded server).
    case delay(milliseconds: Int)
    /// Send these bytes as the whole answer, outside HTTP framing (a hostile or broken server), then
    /// `fillerBytes` more bytes, then close.
    case rawAnswer([UInt8], fillerBytes: Int)
}

/// Faults queued for upcoming requests; each entry applies to `remaining` requests (nil: until cleared).
final class FaultSchedule: Sendable {
    private struct Entry {
        let fault: APIFault
        var remaining: Int?
    }

    private let entries = Mutex<[Entry]>([])

    func add(_ fault: APIFault, count: Int?) {
        entries.withLock { $0.append(Entry(fault: fault, remaining: count)) }
    }

    func clear() {
        entries.withLock { $0.removeAll() }
    }

    /// The fault for the next request, consuming one use of it.
    func next() -> APIFault? {
        entries.withLock { entries in
            guard var first = entries.first else { return nil }
            if let remaining = first.remaining {
                first = Entry(fault: first.fault, remaining: remaining - 1)
                if remaining - 1 <= 0 { entries.removeFirst() } else { entries[0] = first }
            }
            return first.fault
        }
    }
}

/// One request as the emulator saw it (for tests to assert retries, auth and paths).
public struct RecordedRequest: Sendable, Equatable {
    public let method: String
    public let path: String
    public let authorized: Bool
    public let userAgent: String
    /// The request body (DeleteOptions, patches), for tests that check what a client sent.
    public let body: [UInt8]
}
