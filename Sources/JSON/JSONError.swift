/// Why a document is not valid JSON, with the byte offset where reading stopped.
public struct JSONError: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String
    public let offset: Int

    public init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(message) at byte \(offset)" }
}
