import JSON
import Kubernetes

/// Maps a request to the object store the way the API server's REST layer does.
struct APIRouter: Sendable {
    struct Response: Sendable {
        let status: Int
        let body: [UInt8]

        init(status: Int, body: JSONValue) {
            self.status = status
            self.body = Array(JSONSerializer.serialize(body).utf8)
        }

        init(status: Int, encoded: [UInt8]) {
            self.status = status
            body = encoded
        }
    }

    enum Outcome: Sendable {
        case response(Response)
        /// `?watch=1`: the handler streams the changes.
        case watch(WatchRequest)
    }

    let store: APIObjectStore

    func route(method: String, target: String, contentType: String? = nil, body: [UInt8]) -> Outcome {
        do throws(APIStatus) {
            let (path, query) = Self.splitTarget(target)
            let route = try Route(path: path)
            if method == "GET", route.name == nil, route.subresource == nil, let watch = query["watch"], watch == "1" || watch == "true" {
                return .watch(try WatchRequest(resource: route.resource, namespace: route.namespace, query: query))
            }
        } catch {
            return .response(Response(status: error.code, body: error.json))
        }
        return .response(handle(method: method, target: target, contentType: contentType, body: body))
    }

    func handle(method: String, target: String, contentType: String? = nil, body: [UInt8]) -> Response {
        do throws(APIStatus) {
            let (path, query) = Self.splitTarget(target)
            let route = try Route(path: path)
            switch (method, route.name) {
            case ("GET", nil):
                let selector = try ObjectSelector.from(query)
                let (items, version) = store.list(route.resource, namespace: route.namespace, selector: selector)
                return Response(status: 200, body: .object(JSONObject([
                    ("kind", .string(route.resource.kind + "List")), ("apiVersion", .string(route.resource.apiVersion)),
                    ("metadata", .object(JSONObject([("resourceVersion", .string(String(version)))]))),
                    ("items", .array(items)),
                ])))
            case ("GET", let name?):
                return Response(status: 200, encoded: try store.encoded(route.resource, namespace: route.namespace, name: name))
            case ("POST", nil) where route.subresource == nil:
                guard let object = try? JSONParser.parse(body) else { throw APIStatus.badRequest("request body is not JSON") }
                return Response(status: 201, body: try store.create(route.resource, namespace: route.namespace, object))
            case ("PATCH", let name?):
                return Response(status: 200, body: try patch(route, name: name, contentType: contentType, body: body))
            case ("DELETE", let name?) where route.subresource == nil:
                return Response(status: 200, body: try delete(route, name: name, body: body))
            default:
                throw APIStatus.methodNotAllowed(method)
            }
        } catch {
            return Response(status: error.code, body: error.json)
        }
    }

    static func splitTarget(_ target: String) -> (String, [String: String]) {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query[percentDecoded(kv[0])] = kv.count == 2 ? percentDecoded(kv[1]) : ""
            }
        }
        return (String(parts[0]), query)
    }

    private static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A parsed API path: which resource, in which namespace, which object.
struct Route {
    let resource: ResourceType
    let namespace: String?
    let name: String?
    /// `status` in `/pods/{name}/status`.
    let subresource: String?

    init(path: String) throws(APIStatus) {
        var components = path.split(separator: "/").map(String.init)
        let groupVersion: String
        if components.first == "api", components.count >= 2 {
            groupVersion = "api/\(components[1])"
            components.removeFirst(2)
        } else if components.first == "apis", components.count >= 3 {
            groupVersion = "apis/\(components[1])/\(components[2])"
            components.removeFirst(3)
        } else {
            throw APIStatus.notFound("path", path)
        }
        var namespace: String?
        if components.count >= 3, components[0] == "namespaces" {
            namespace = components[1]
            components.removeFirst(2)
        }
        guard let plural = components.first,
              let resource = ResourceType.all.first(where: { $0.plural == plural && $0.groupVersionPath == groupVersion }),
              components.count <= 3 else {
            throw APIStatus(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        }
        self.resource = resource
        self.namespace = namespace
        name = components.count >= 2 ? components[1] : nil
        subresource = components.count == 3 ? components[2] : nil
    }
}
