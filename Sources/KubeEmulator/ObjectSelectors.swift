import JSON

/// `labelSelector` (equality, inequality, existence) and `fieldSelector` (equality on the fields the
/// real API indexes for pods) as the API server applies them to lists.
struct ObjectSelector: Sendable {
    private enum Requirement: Sendable {
        case equals(String, String)
        case notEquals(String, String)
        case exists(String)
        case notExists(String)
    }

    private let labels: [Requirement]
    private let fields: [Requirement]

    init(labelSelector: String?, fieldSelector: String?) throws(APIStatus) {
        labels = try Self.parse(labelSelector ?? "", kind: "label")
        fields = try Self.parse(fieldSelector ?? "", kind: "field")
    }

    func matches(_ object: JSONValue) -> Bool {
        let labelValues = object["metadata"]?["labels"]?.objectValue
        for requirement in labels {
            switch requirement {
            case .equals(let key, let value): if labelValues?[key]?.stringValue != value { return false }
            case .notEquals(let key, let value): if labelValues?[key]?.stringValue == value { return false }
            case .exists(let key): if labelValues?[key] == nil { return false }
            case .notExists(let key): if labelValues?[key] != nil { return false }
            }
        }
        for requirement in fields {
            switch requirement {
            case .equals(let path, let value): if fieldValue(object, path) != value { return false }
            case .notEquals(let path, let value): if fieldValue(object, path) == value { return false }
            case .exists, .notExists: return false
            }
        }
        return true
    }

    private func fieldValue(_ object: JSONValue, _ path: String) -> String {
        var current: JSONValue? = object
        for component in path.split(separator: ".") { current = current?[String(component)] }
        return current?.stringValue ?? ""
    }

    private static func parse(_ text: String, kind: String) throws(APIStatus) -> [Requirement] {
        var requirements: [Requirement] = []
        for clause in text.split(separator: ",").map({ String($0).trimmingSpaces() }) where !clause.isEmpty {
            if let range = clause.range(of: "!=") {
                requirements.append(.notEquals(String(clause[..<range.lowerBound]), String(clause[range.upperBound...])))
            } else if let range = clause.range(of: "==") ?? clause.range(of: "=") {
                requirements.append(.equals(String(clause[..<range.lowerBound]), String(clause[range.upperBound...])))
            } else if kind == "label", clause.hasPrefix("!") {
                requirements.append(.notExists(String(clause.dropFirst())))
            } else if kind == "label" {
                requirements.append(.exists(clause))
            } else {
                throw APIStatus.badRequest("invalid \(kind) selector \"\(text)\"")
            }
        }
        return requirements
    }
}

extension String {
    func trimmingSpaces() -> String {
        var trimmed = Substring(self)
        while trimmed.first == " " { trimmed = trimmed.dropFirst() }
        while trimmed.last == " " { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}
