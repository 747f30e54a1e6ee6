import JSON

/// Reads a result object written in a given spec version. Anything that does not fit that version's
/// shape (an `ip4` in a 1.0.0 result, an IP without `version` in 0.4.0, a bad address) is a decode error
/// naming the field, so a malformed `prevResult` is rejected before anything is programmed.
public enum CNIResultDecoder {
    public static func decode(_ value: JSONValue, version: CNIVersion, field: String = "prevResult") throws(CNIError) -> CNIResult {
        guard let object = value.objectValue else {
            throw decodeError(field, "must be an object, got \(value.typeName)")
        }
        switch version.resultShape {
        case .ipFamilies:
            for key in ["ips", "interfaces", "routes"] where object[key] != nil {
                throw decodeError(field, "has \"\(key)\", which does not exist in cniVersion \(version.rawValue) results (it uses ip4/ip6)")
            }
            return try decodeIPFamilies(object, field: field)
        case .versionedIPs, .unversionedIPs, .extendedUnversionedIPs:
            for key in ["ip4", "ip6"] where object[key] != nil {
                throw decodeError(field, "has \"\(key)\", which only exists in cniVersion 0.1.0/0.2.0 results, not \(version.rawValue)")
            }
            return try decodeIPList(object, version: version, field: field)
        }
    }

    private static func decodeIPFamilies(_ object: JSONObject, field: String) throws(CNIError) -> CNIResult {
        var result = CNIResult()
        for (key, isIPv4) in [("ip4", true), ("ip6", false)] {
            guard let familyValue = object[key], !familyValue.isNull else { continue }
            let path = "\(field).\(key)"
            guard let family = familyValue.objectValue else { throw decodeError(path, "must be an object") }
            let address = try requiredString(family, "ip", path)
            try checkPrefix(address, family: isIPv4, path: "\(path).ip")
            let gateway = try optionalString(family, "gateway", path)
            if let gateway { try checkAddress(gateway, path: "\(path).gateway") }
            result.ips.append(.init(address: address, gateway: gateway))
            for (index, route) in try optionalArray(family, "routes", path).enumerated() {
                result.routes.append(try decodeRoute(route, path: "\(path).routes[\(index)]", extended: false))
            }
        }
        result.dns = try decodeDNS(object["dns"], path: "\(field).dns")
        return result
    }

    private static func decodeIPList(_ object: JSONObject, version: CNIVersion, field: String) throws(CNIError) -> CNIResult {
        var result = CNIResult()
        let extended = version.resultShape == .extendedUnversionedIPs
        for (index, entry) in try optionalArray(object, "interfaces", field).enumerated() {
            let path = "\(field).interfaces[\(index)]"
            guard let iface = entry.objectValue else { throw decodeError(path, "must be an object") }
            result.interfaces.append(.init(
                name: try requiredString(iface, "name", path),
                mac: try optionalString(iface, "mac", path),
                mtu: extended ? try optionalInt(iface, "mtu", path) : nil,
                sandbox: try optionalString(iface, "sandbox", path),
                socketPath: extended ? try optionalString(iface, "socketPath", path) : nil,
                pciID: extended ? try optionalString(iface, "pciID", path) : nil))
        }
        for (index, entry) in try optionalArray(object, "ips", field).enumerated() {
            let path = "\(field).ips[\(index)]"
            guard let ip = entry.objectValue else { throw decodeError(path, "must be an object") }
            let address = try requiredString(ip, "address", path)
            guard let prefix = IPPrefix(address) else {
                throw decodeError("\(path).address", "\"\(address)\" is not an address with prefix length")
            }
            if version.resultShape == .versionedIPs {
                let declared = try requiredString(ip, "version", path)
                guard declared == "4" || declared == "6" else {
                    throw decodeError("\(path).version", "\"\(declared)\" is not \"4\" or \"6\"")
                }
                guard (declared == "4") == prefix.isIPv4 else {
                    throw decodeError("\(path).version", "\"\(declared)\" does not match address \(address)")
                }
            }
            let gateway = try optionalString(ip, "gateway", path)
            if let gateway { try checkAddress(gateway, path: "\(path).gateway") }
            let interface = try optionalInt(ip, "interface", path)
            if let interface, interface < 0 || interface >= result.interfaces.count {
                throw decodeError("\(path).interface", "index \(interface) does not name one of the \(result.interfaces.count) interfaces")
            }
            result.ips.append(.init(address: address, gateway: gateway, interface: interface))
        }
        for (index, route) in try optionalArray(object, "routes", field).enumerated() {
            result.routes.append(try decodeRoute(route, path: "\(field).routes[\(index)]", extended: extended))
        }
        result.dns = try decodeDNS(object["dns"], path: "\(field).dns")
        return result
    }

    private static func decodeRoute(_ value: JSONValue, path: String, extended: Bool) throws(CNIError) -> CNIResult.Route {
        guard let route = value.objectValue else { throw decodeError(path, "must be an object") }
        let destination = try requiredString(route, "dst", path)
        guard IPPrefix(destination) != nil else {
            throw decodeError("\(path).dst", "\"\(destination)\" is not an address with prefix length")
        }
        let gateway = try optionalString(route, "gw", path)
        if let gateway { try checkAddress(gateway, path: "\(path).gw") }
        return .init(destination: destination, gateway: gateway,
                     mtu: extended ? try optionalInt(route, "mtu", path) : nil,
                     advmss: extended ? try optionalInt(route, "advmss", path) : nil,
                     priority: extended ? try optionalInt(route, "priority", path) : nil,
                     table: extended ? try optionalInt(route, "table", path) : nil,
                     scope: extended ? try optionalInt(route, "scope", path) : nil)
    }

    private static func decodeDNS(_ value: JSONValue?, path: String) throws(CNIError) -> CNIResult.DNS {
        guard let value, !value.isNull else { return .init() }
        guard let dns = value.objectValue else { throw decodeError(path, "must be an object") }
        return .init(nameservers: try stringArray(dns, "nameservers", path),
                     domain: try optionalString(dns, "domain", path),
                     search: try stringArray(dns, "search", path),
                     options: try stringArray(dns, "options", path))
    }

    private static func checkPrefix(_ text: String, family isIPv4: Bool, path: String) throws(CNIError) {
        guard let prefix = IPPrefix(text) else { throw decodeError(path, "\"\(text)\" is not an address with prefix length") }
        guard prefix.isIPv4 == isIPv4 else { throw decodeError(path, "\"\(text)\" is not an IPv\(isIPv4 ? 4 : 6) address") }
    }

    private static func checkAddress(_ text: String, path: String) throws(CNIError) {
        guard IPAddress(text) != nil else { throw decodeError(path, "\"\(text)\" is not an IP address") }
    }

    private static func requiredString(_ object: JSONObject, _ key: String, _ path: String) throws(CNIError) -> String {
        guard let value = object[key] else { throw decodeError("\(path).\(key)", "is missing") }
        guard let string = value.stringValue else { throw decodeError("\(path).\(key)", "must be a string, got \(value.typeName)") }
        return string
    }

    private static func optionalString(_ object: JSONObject, _ key: String, _ path: String) throws(CNIError) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let string = value.stringValue else { throw decodeError("\(path).\(key)", "must be a string, got \(value.typeName)") }
        return string.isEmpty ? nil : string
    }

    private static func optionalInt(_ object: JSONObject, _ key: String, _ path: String) throws(CNIError) -> Int? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let number = value.int64Value, let int = Int(exactly: number) else {
            throw decodeError("\(path).\(key)", "must be an integer, got \(value)")
        }
        return int
    }

    private static func optionalArray(_ object: JSONObject, _ key: String, _ path: String) throws(CNIError) -> [JSONValue] {
        guard let value = object[key], !value.isNull else { return [] }
        guard let array = value.arrayValue else { throw decodeError("\(path).\(key)", "must be an array, got \(value.typeName)") }
        return array
    }

    private static func stringArray(_ object: JSONObject, _ key: String, _ path: String) throws(CNIError) -> [String] {
        var strings: [String] = []
        for (index, element) in try optionalArray(object, key, path).enumerated() {
            guard let string = element.stringValue else {
                throw decodeError("\(path).\(key)[\(index)]", "must be a string, got \(element.typeName)")
            }
            strings.append(string)
        }
        return strings
    }

    private static func decodeError(_ path: String, _ problem: String) -> CNIError {
        CNIError(.decodingFailure, "\(path) \(problem)")
    }
}
