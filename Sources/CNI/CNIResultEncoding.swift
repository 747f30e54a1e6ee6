import JSON

/// Writes a result in the shape of the request's spec version (libcni's conversion rules).
public enum CNIResultEncoder {
    public static func encode(_ result: CNIResult, version: CNIVersion) throws(CNIError) -> JSONValue {
        var object = JSONObject()
        object["cniVersion"] = .string(version.rawValue)
        switch version.resultShape {
        case .ipFamilies:
            guard !result.ips.isEmpty else {
                throw CNIError(.incompatibleVersion,
                               "cniVersion \(version.rawValue) cannot express a result without an IP address",
                               details: "istio-cni passes on the previous plugin's result; with no prevResult (standalone or Multus use) configure cniVersion 0.3.0 or later")
            }
            for isIPv4 in [true, false] {
                guard let ip = result.ips.first(where: { $0.isIPv4 == isIPv4 }) else { continue }
                var family = JSONObject()
                family["ip"] = .string(ip.address)
                if let gateway = ip.gateway { family["gateway"] = .string(gateway) }
                let routes = result.routes.filter { $0.isIPv4 == isIPv4 }
                if !routes.isEmpty { family["routes"] = .array(routes.map { encodeRoute($0, extended: false) }) }
                object[isIPv4 ? "ip4" : "ip6"] = .object(family)
            }
        case .versionedIPs, .unversionedIPs, .extendedUnversionedIPs:
            let extended = version.resultShape == .extendedUnversionedIPs
            if !result.interfaces.isEmpty {
                object["interfaces"] = .array(result.interfaces.map { encodeInterface($0, extended: extended) })
            }
            if !result.ips.isEmpty {
                object["ips"] = .array(result.ips.map { encodeIP($0, versioned: version.resultShape == .versionedIPs) })
            }
            if !result.routes.isEmpty {
                object["routes"] = .array(result.routes.map { encodeRoute($0, extended: extended) })
            }
        }
        object["dns"] = encodeDNS(result.dns)
        return .object(object)
    }

    private static func encodeInterface(_ iface: CNIResult.Interface, extended: Bool) -> JSONValue {
        var object = JSONObject()
        object["name"] = .string(iface.name)
        if let mac = iface.mac { object["mac"] = .string(mac) }
        if extended, let mtu = iface.mtu { object["mtu"] = .integer(mtu) }
        if let sandbox = iface.sandbox { object["sandbox"] = .string(sandbox) }
        if extended, let socketPath = iface.socketPath { object["socketPath"] = .string(socketPath) }
        if extended, let pciID = iface.pciID { object["pciID"] = .string(pciID) }
        return .object(object)
    }

    private static func encodeIP(_ ip: CNIResult.IPConfig, versioned: Bool) -> JSONValue {
        var object = JSONObject()
        if versioned { object["version"] = .string(ip.isIPv4 ? "4" : "6") }
        if let interface = ip.interface { object["interface"] = .integer(interface) }
        object["address"] = .string(ip.address)
        if let gateway = ip.gateway { object["gateway"] = .string(gateway) }
        return .object(object)
    }

    private static func encodeRoute(_ route: CNIResult.Route, extended: Bool) -> JSONValue {
        var object = JSONObject()
        object["dst"] = .string(route.destination)
        if let gateway = route.gateway { object["gw"] = .string(gateway) }
        if extended {
            for (key, value) in [("mtu", route.mtu), ("advmss", route.advmss), ("priority", route.priority),
                                 ("table", route.table), ("scope", route.scope)] {
                if let value { object[key] = .integer(value) }
            }
        }
        return .object(object)
    }

    private static func encodeDNS(_ dns: CNIResult.DNS) -> JSONValue {
        var object = JSONObject()
        if !dns.nameservers.isEmpty { object["nameservers"] = .array(dns.nameservers.map(JSONValue.string)) }
        if let domain = dns.domain { object["domain"] = .string(domain) }
        if !dns.search.isEmpty { object["search"] = .array(dns.search.map(JSONValue.string)) }
        if !dns.options.isEmpty { object["options"] = .array(dns.options.map(JSONValue.string)) }
        return .object(object)
    }
}
