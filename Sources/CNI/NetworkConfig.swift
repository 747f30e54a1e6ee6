import JSON

/// The network configuration a runtime passes on stdin. Every key is kept in `raw` (unknown keys are
/// preserved and ignored); the standard ones are validated here.
public struct NetworkConfig: Sendable {
    public let raw: JSONObject
    public let cniVersion: CNIVersion
    public let name: String
    public let type: String
    /// The previous plugin's result, or nil when this plugin runs first or standalone.
    public let prevResult: CNIResult?

    public static func parse(_ bytes: [UInt8]) throws(CNIError) -> NetworkConfig {
        let object = try parseObject(bytes)
        let cniVersion = try version(of: object)
        let name = try requiredString(object, "name")
        guard isValidNetworkName(name) else {
            throw CNIError(.invalidNetworkConfig,
                           "network configuration \"name\" \"\(name)\" is invalid: it must start with a letter or digit and contain only letters, digits, '_', '.' and '-'")
        }
        let type = try requiredString(object, "type")
        var prevResult: CNIResult?
        if let prev = object["prevResult"], !prev.isNull {
            var resultVersion = cniVersion
            if let declared = prev["cniVersion"] {
                guard let text = declared.stringValue, let parsed = CNIVersion(rawValue: text) else {
                    throw CNIError(.decodingFailure, "prevResult.cniVersion \(declared) is not a supported CNI version",
                                   details: "supported: \(CNIVersion.supportedList)")
                }
                resultVersion = parsed
            }
            prevResult = try CNIResultDecoder.decode(prev, version: resultVersion)
        }
        return NetworkConfig(raw: object, cniVersion: cniVersion, name: name, type: type, prevResult: prevResult)
    }

    /// Parses only as far as the version, for commands that must answer even with a broken config.
    public static func requestedVersion(_ bytes: [UInt8]) -> CNIVersion? {
        guard let object = try? parseObject(bytes) else { return nil }
        return try? version(of: object)
    }

    static func parseObject(_ bytes: [UInt8]) throws(CNIError) -> JSONObject {
        if bytes.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
            throw CNIError(.decodingFailure, "network configuration on stdin is empty")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw CNIError(.decodingFailure, "network configuration on stdin is not valid JSON", details: error.description)
        }
        guard let object = value.objectValue else {
            throw CNIError(.decodingFailure, "network configuration must be a JSON object, got \(value.typeName)")
        }
        return object
    }

    static func version(of object: JSONObject) throws(CNIError) -> CNIVersion {
        // libcni treats a missing cniVersion as 0.1.0 (the legacy result format).
        guard let declared = object["cniVersion"] else { return .v0_1_0 }
        guard let text = declared.stringValue else {
            throw CNIError(.decodingFailure, "network configuration \"cniVersion\" must be a string, got \(declared.typeName)")
        }
        guard let version = CNIVersion(rawValue: text) else {
            throw CNIError(.incompatibleVersion, "incompatible CNI versions",
                           details: "config is \"\(text)\", plugin supports [\(CNIVersion.supportedList)]")
        }
        return version
    }

    private static func requiredString(_ object: JSONObject, _ key: String) throws(CNIError) -> String {
        guard let value = object[key], !value.isNull else {
            throw CNIError(.invalidNetworkConfig, "network configuration is missing \"\(key)\"")
        }
        guard let string = value.stringValue, !string.isEmpty else {
            throw CNIError(.invalidNetworkConfig, "network configuration \"\(key)\" must be a non-empty string, got \(value)")
        }
        return string
    }

    static func isValidNetworkName(_ name: String) -> Bool {
        CNIEnvironment.isValidContainerID(name)
    }
}

// MARK: Typed access to plugin-specific keys; a wrong type is an invalid-config error naming the key.
extension NetworkConfig {
    public func string(_ key: String) throws(CNIError) -> String? {
        guard let value = raw[key], !value.isNull else { return nil }
        guard let string = value.stringValue else { throw wrongType(key, "a string", value) }
        return string
    }

    public func bool(_ key: String) throws(CNIError) -> Bool? {
        guard let value = raw[key], !value.isNull else { return nil }
        guard let bool = value.boolValue else { throw wrongType(key, "a boolean", value) }
        return bool
    }

    public func number(_ key: String) throws(CNIError) -> Double? {
        guard let value = raw[key], !value.isNull else { return nil }
        guard let number = value.doubleValue else { throw wrongType(key, "a number", value) }
        return number
    }

    public func stringList(_ key: String) throws(CNIError) -> [String]? {
        guard let value = raw[key], !value.isNull else { return nil }
        guard let array = value.arrayValue else { throw wrongType(key, "an array of strings", value) }
        var strings: [String] = []
        for element in array {
            guard let string = element.stringValue else { throw wrongType(key, "an array of strings", value) }
            strings.append(string)
        }
        return strings
    }

    public func object(_ key: String) throws(CNIError) -> JSONObject? {
        guard let value = raw[key], !value.isNull else { return nil }
        guard let object = value.objectValue else { throw wrongType(key, "an object", value) }
        return object
    }

    private func wrongType(_ key: String, _ expected: String, _ value: JSONValue) -> CNIError {
        let shown = String(value.description.prefix(80))
        return CNIError(.invalidNetworkConfig, "network configuration \"\(key)\" must be \(expected), got \(shown)")
    }
}
