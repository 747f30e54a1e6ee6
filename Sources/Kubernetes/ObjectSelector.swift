import JSON

/// A `labelSelector` plus `fieldSelector`, parsed and applied the way the API server applies them to
/// lists and watches: label equality (`=`, `==`, `!=`), existence (`key`, `!key`) and sets
/// (`key in (a,b)`, `key notin (a,b)`); field equality and inequality on dotted paths.
/// The emulator filters with it, and the agent uses it for its extra repair selectors.
public struct ObjectSelector: Sendable, Equatable {
    enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case exists(String)
        case notExists(String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
    }

    /// A selector that does not parse; `message` quotes it.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    private let labels: [Requirement]
    private let fields: [Requirement]

    public static let everything = ObjectSelector(labels: [], fields: [])

    private init(labels: [Requirement], fields: [Requirement]) {
        self.labels = labels
        self.fields = fields
    }

    public init(labelSelector: String?, fieldSelector: String?) throws(Invalid) {
        labels = try Self.parse(labelSelector ?? "", kind: "label")
        fields = try Self.parse(fieldSelector ?? "", kind: "field")
    }

    public var isEverything: Bool { labels.isEmpty && fields.isEmpty }

    public func matches(_ object: JSONValue) -> Bool {
        let labelValues = object["metadata"]?["labels"]?.objectValue
        for requirement in labels where !Self.holds(requirement, { labelValues?[$0]?.stringValue }) { return false }
        for requirement in fields where !Self.holds(requirement, { Self.fieldValue(object, $0) ?? "" }) { return false }
        return true
    }

    private static func holds(_ requirement: Requirement, _ value: (String) -> String?) -> Bool {
        switch requirement {
        case .equals(let key, let expected): value(key) == expected
        case .notEquals(let key, let unwanted): value(key) != unwanted
        case .exists(let key): value(key) != nil
        case .notExists(let key): value(key) == nil
        case .isIn(let key, let values): value(key).map(values.contains) ?? false
        case .notIn(let key, let values): !(value(key).map(values.contains) ?? false)
        }
    }

    private static func fieldValue(_ object: JSONValue, _ path: String) -> String? {
        var current: JSONValue? = object
        for component in path.split(separator: ".") { current = current?[String(component)] }
        switch current {
        case .string(let text)?: return text
        case .bool(let flag)?: return flag ? "true" : "false"
        case .number(let digits)?: return digits
        default: return nil
        }
    }

    private static func parse(_ text: String, kind: String) throws(Invalid) -> [Requirement] {
        var requirements: [Requirement] = []
        for clause in clauses(text) where !clause.isEmpty {
            let invalid = Invalid(message: "invalid \(kind) selector \"\(text)\": cannot parse \"\(clause)\"")
            if let (name, value) = split(clause, at: "!=") {
                requirements.append(.notEquals(try key(name, invalid), trimmed(value)))
            } else if let (name, value) = split(clause, at: "==") ?? split(clause, at: "=") {
                requirements.append(.equals(try key(name, invalid), trimmed(value)))
            } else if kind == "label", let set = try setRequirement(clause, invalid) {
                requirements.append(set)
            } else if kind == "label", clause.hasPrefix("!") {
                requirements.append(.notExists(try key(clause.dropFirst(), invalid)))
            } else if kind == "label" {
                requirements.append(.exists(try key(Substring(clause), invalid)))
            } else {
                throw invalid
            }
        }
        return requirements
    }

    /// The text before and after the first `separator`.
    private static func split(_ text: String, at separator: String) -> (Substring, Substring)? {
        let characters = Array(text)
        let wanted = Array(separator)
        guard characters.count >= wanted.count else { return nil }
        for offset in 0...(characters.count - wanted.count) where Array(characters[offset..<offset + wanted.count]) == wanted {
            let start = text.index(text.startIndex, offsetBy: offset)
            return (text[..<start], text[text.index(start, offsetBy: wanted.count)...])
        }
        return nil
    }

    /// `key in (a,b)` or `key notin (a,b)`; nil when the clause has no parenthesis.
    private static func setRequirement(_ clause: String, _ invalid: Invalid) throws(Invalid) -> Requirement? {
        guard let open = clause.firstIndex(of: "(") else { return nil }
        guard clause.last == ")" else { throw invalid }
        let head = clause[..<open].split(separator: " ", omittingEmptySubsequences: true)
        guard head.count == 2 else { throw invalid }
        let values = Set(clause[clause.index(after: open)..<clause.index(before: clause.endIndex)]
            .split(separator: ",", omittingEmptySubsequences: false).map { trimmed($0) })
        switch head[1] {
        case "in": return .isIn(try key(head[0], invalid), values)
        case "notin": return .notIn(try key(head[0], invalid), values)
        default: throw invalid
        }
    }

    /// Splits at commas that are not inside a `( … )` value set.
    private static func clauses(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 } else if character == ")" { depth -= 1 }
            if character == ",", depth == 0 {
                result.append(trimmed(Substring(current)))
                current = ""
            } else {
                current.append(character)
            }
        }
        result.append(trimmed(Substring(current)))
        return result
    }

    private static func key(_ text: Substring, _ invalid: Invalid) throws(Invalid) -> String {
        let key = trimmed(text)
        guard !key.isEmpty, !key.contains(" ") else { throw invalid }
        return key
    }

    private static func trimmed(_ text: Substring) -> String {
        var result = text
        while result.first == " " { result = result.dropFirst() }
        while result.last == " " { result = result.dropLast() }
        return String(result)
    }
}
