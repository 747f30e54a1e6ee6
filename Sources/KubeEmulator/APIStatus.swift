import JSON

/// A Kubernetes `Status` failure, the body every API error carries.
public struct APIStatus: Error, Sendable {
    public let code: Int
    public let reason: String
    public let message: String
    public var details: JSONObject?

    public init(code: Int, reason: String, message: String, details: JSONObject? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var json: JSONValue {
        var object = JSONObject([
            ("kind", .string("Status")), ("apiVersion", .string("v1")), ("metadata", .object(JSONObject())),
            ("status", .string("Failure")), ("message", .string(message)), ("reason", .string(reason)),
        ])
        if let details { object["details"] = .object(details) }
        object["code"] = .integer(code)
        return .object(object)
    }

    static func notFound(_ resource: String, _ name: String) -> APIStatus {
        APIStatus(code: 404, reason: "NotFound", message: "\(resource) \"\(name)\" not found",
                  details: JSONObject([("name", .string(name)), ("kind", .string(resource))]))
    }

    static func alreadyExists(_ resource: String, _ name: String) -> APIStatus {
        APIStatus(code: 409, reason: "AlreadyExists", message: "\(resource) \"\(name)\" already exists",
                  details: JSONObject([("name", .string(name)), ("kind", .string(resource))]))
    }

    static func conflict(_ resource: String, _ name: String, _ detail: String) -> APIStatus {
        APIStatus(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(resource) \"\(name)\": \(detail)",
                  details: JSONObject([("name", .string(name)), ("kind", .string(resource))]))
    }

    static let unauthorized = APIStatus(code: 401, reason: "Unauthorized", message: "Unauthorized")

    static func badRequest(_ message: String) -> APIStatus {
        APIStatus(code: 400, reason: "BadRequest", message: message)
    }

    static func methodNotAllowed(_ method: String) -> APIStatus {
        APIStatus(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource (\(method))")
    }
}
