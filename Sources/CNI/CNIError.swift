import JSON

/// A CNI error result: a spec error code, a message naming the culprit, and optional details.
/// It is printed as JSON on stdout and the plugin exits 1 (the runtime reads stdout, not stderr).
public struct CNIError: Error, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        public static let incompatibleVersion = Code(rawValue: 1)
        public static let unsupportedField = Code(rawValue: 2)
        public static let unknownContainer = Code(rawValue: 3)
        public static let invalidEnvironment = Code(rawValue: 4)
        public static let ioFailure = Code(rawValue: 5)
        public static let decodingFailure = Code(rawValue: 6)
        public static let invalidNetworkConfig = Code(rawValue: 7)
        public static let tryAgainLater = Code(rawValue: 11)
        public static let pluginNotAvailable = Code(rawValue: 50)
        public static let limitedConnectivity = Code(rawValue: 51)
    }

    public let code: Code
    public let message: String
    public let details: String

    public init(_ code: Code, _ message: String, details: String = "") {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String {
        details.isEmpty ? "\(message) (code \(code.rawValue))" : "\(message): \(details) (code \(code.rawValue))"
    }

    public func json(cniVersion: String) -> String {
        JSONSerializer.serialize(.object(JSONObject([
            ("cniVersion", .string(cniVersion)),
            ("code", .integer(code.rawValue)),
            ("msg", .string(message)),
            ("details", .string(details)),
        ])))
    }
}
