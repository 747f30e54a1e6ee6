import JSON

/// Our entry in a CNI configuration: what the plugin reads (cni-conf/README.md), in Istio's shape.
enum PluginEntry {
    static let type = "istio-cni"

    /// The entry chained into a primary list: no `cniVersion` (the list's version applies).
    static func chained(_ configuration: AgentConfiguration) -> JSONObject {
        var entry = JSONObject([("type", .string(type)), ("name", .string(type))])
        for (key, value) in settings(configuration) { entry[key] = value }
        return entry
    }

    /// The standalone (Multus) file: a whole single-plugin config, `cniVersion` 0.3.1 as Istio writes it.
    static func standalone(_ configuration: AgentConfiguration) -> JSONObject {
        var entry = JSONObject([("cniVersion", .string("0.3.1")), ("name", .string(type)), ("type", .string(type))])
        for (key, value) in settings(configuration) { entry[key] = value }
        return entry
    }

    private static func settings(_ configuration: AgentConfiguration) -> [(String, JSONValue)] {
        var values: [(String, JSONValue)] = [
            ("plugin_log_level", .string(configuration.pluginLogLevel)),
            ("cni_agent_run_dir", .string(configuration.runDirectory)),
            ("exclude_namespaces", .array(configuration.excludeNamespaces.map(JSONValue.string))),
        ]
        if let namespace = configuration.podNamespace { values.append(("pod_namespace", .string(namespace))) }
        values.append(("native_nftables", .bool(configuration.nativeNftables)))
        if let forced = configuration.forceIptablesBinary { values.append(("force_iptables_binary", .string(forced))) }
        values += [("ipam", .object(JSONObject())), ("dns", .object(JSONObject()))]
        return values
    }

    static func isOurs(_ plugin: JSONValue) -> Bool {
        plugin["type"]?.stringValue == type
    }
}
