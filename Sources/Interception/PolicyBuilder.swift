import CNI

/// Turns a mesh pod's annotations, its istio-proxy container and the node-wide env knobs into a
/// validated `InterceptionPolicy` (reference §2.1). Any invalid value throws, naming its source.
enum PolicyBuilder {
    static func policy(for pod: PodFacts, processEnvironment: [String: String]) throws(InterceptionError) -> InterceptionPolicy {
        var policy = InterceptionPolicy()
        let annotations = pod.annotations

        if let mode = annotations[IstioAnnotation.interceptionMode] {
            guard let parsed = InterceptionPolicy.Mode(rawValue: mode) else {
                throw InterceptionError(source: IstioAnnotation.interceptionMode, value: mode, problem: "must be REDIRECT, TPROXY or NONE")
            }
            policy.mode = parsed
        }

        let proxy = pod.proxyContainer
        policy.proxyUID = try proxyIdentity(proxy?.runAsUser, field: "runAsUser")
        policy.proxyGID = try proxyIdentity(proxy?.runAsGroup, field: "runAsGroup")

        if let value = annotations[IstioAnnotation.includeInboundPorts] {
            policy.inboundPortsInclude = try AnnotationList.ports(value, source: IstioAnnotation.includeInboundPorts, allowWildcard: true)
        }
        let excludedInbound = try AnnotationList.portList(annotations[IstioAnnotation.excludeInboundPorts] ?? "15020",
                                                          source: IstioAnnotation.excludeInboundPorts)
        policy.inboundPortsExclude = deduplicated(excludedInbound + InterceptionPolicy.alwaysExcludedInboundPorts)
        if let value = annotations[IstioAnnotation.includeOutboundPorts] {
            policy.outboundPortsInclude = deduplicated(try AnnotationList.portList(value, source: IstioAnnotation.includeOutboundPorts))
        }
        if let value = annotations[IstioAnnotation.excludeOutboundPorts] {
            policy.outboundPortsExclude = deduplicated(try AnnotationList.portList(value, source: IstioAnnotation.excludeOutboundPorts))
        }
        if let value = annotations[IstioAnnotation.includeOutboundIPRanges] {
            policy.outboundIPRangesInclude = try AnnotationList.cidrs(value, source: IstioAnnotation.includeOutboundIPRanges, allowWildcard: true)
        }
        if let value = annotations[IstioAnnotation.excludeOutboundIPRanges],
           case .ranges(let ranges) = try AnnotationList.cidrs(value, source: IstioAnnotation.excludeOutboundIPRanges, allowWildcard: false) {
            policy.outboundIPRangesExclude = ranges
        }
        if let value = annotations[IstioAnnotation.excludeInterfaces] {
            policy.excludeInterfaces = try AnnotationList.interfaces(value, source: IstioAnnotation.excludeInterfaces)
        }
        if let value = annotations[IstioAnnotation.rerouteVirtualInterfaces] {
            policy.rerouteInterfaces = try AnnotationList.interfaces(value, source: IstioAnnotation.rerouteVirtualInterfaces)
        } else if let value = annotations[IstioAnnotation.kubevirtInterfaces] {
            policy.rerouteInterfaces = try AnnotationList.interfaces(value, source: IstioAnnotation.kubevirtInterfaces)
        }

        // Istio parses these leniently (a value that is not a boolean means false), so do we: a pod that
        // runs under Istio's plugin must run under ours.
        let proxyEnvironment = proxy?.environment ?? [:]
        policy.captureDNS = proxyEnvironment[ProxyEnvironment.dnsCapture].flatMap(parseGoBool) ?? false
        policy.dualStack = proxyEnvironment[ProxyEnvironment.dualStack].flatMap(parseGoBool) ?? false
        policy.dropInvalid = proxyEnvironment[ProxyEnvironment.invalidDrop].flatMap(parseGoBool) ?? false

        try applyNodeKnobs(processEnvironment, to: &policy)
        return policy
    }

    /// Istio uses the istio-proxy container's own securityContext; absent or 0 (root) means 1337.
    private static func proxyIdentity(_ value: Int64?, field: String) throws(InterceptionError) -> UInt32 {
        guard let value, value != 0 else { return InterceptionPolicy.defaultProxyUID }
        guard value > 0, value < Int64(UInt32.max) else {
            throw InterceptionError(source: "istio-proxy securityContext.\(field)", value: String(value), problem: "is not a valid Linux ID")
        }
        return UInt32(value)
    }

    private static func applyNodeKnobs(_ environment: [String: String], to policy: inout InterceptionPolicy) throws(InterceptionError) {
        if let value = environment[PluginProcessEnvironment.ipv4LoopbackCIDR], !value.isEmpty {
            guard let prefix = IPPrefix(value), prefix.isIPv4, prefix.address.isLoopback else {
                throw InterceptionError(source: PluginProcessEnvironment.ipv4LoopbackCIDR, value: value, problem: "must be an IPv4 CIDR inside 127.0.0.0/8")
            }
            policy.hostIPv4LoopbackCIDR = prefix.network
        }
        let include = environment[PluginProcessEnvironment.ownerGroupsInclude] ?? "*"
        let exclude = environment[PluginProcessEnvironment.ownerGroupsExclude] ?? ""
        if include == "*" {
            policy.ownerGroups = .allExcept(try groups(exclude, source: PluginProcessEnvironment.ownerGroupsExclude))
        } else {
            let included = try groups(include, source: PluginProcessEnvironment.ownerGroupsInclude)
            // Istio's limit: all included groups go into one rule, one match each.
            guard included.count <= maximumIncludedOwnerGroups else {
                throw InterceptionError(source: PluginProcessEnvironment.ownerGroupsInclude, value: include,
                                        problem: "lists \(included.count) groups; at most \(maximumIncludedOwnerGroups) can be included")
            }
            policy.ownerGroups = .only(included)
        }
    }

    static let maximumIncludedOwnerGroups = 64

    /// GIDs and group names, as Istio takes them (empty entries dropped). Names are resolved on the
    /// node later: iptables does it itself, the nftables backend before it builds its rules.
    private static func groups(_ value: String, source: String) throws(InterceptionError) -> [OwnerGroup] {
        var groups: [OwnerGroup] = []
        for item in try AnnotationList.items(value, source: source, keepingEmpty: true) {
            if let id = AnnotationList.decimal(item, maximum: UInt32.max - 1) {
                groups.append(.id(id))
            } else if isGroupName(item) {
                groups.append(.name(AnnotationList.text(item)))
            } else {
                throw InterceptionError(source: source, value: value,
                                        problem: "\"\(AnnotationList.text(item))\" is neither a group ID nor a group name (letters, digits, '_', '.', '-', not starting with '-')")
            }
        }
        return groups
    }

    /// The portable user and group name set (POSIX), plus a trailing '$' (Samba machine accounts);
    /// nothing that could be taken for an option or break a rule's text.
    private static func isGroupName(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, bytes.count <= 256, first != UInt8(ascii: "-") else { return false }
        return bytes.indices.allSatisfy { index in
            switch bytes[index] {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"): true
            case UInt8(ascii: "$"): index == bytes.index(before: bytes.endIndex)
            default: false
            }
        }
    }

    /// Keeps the first occurrence of each port, in order.
    private static func deduplicated(_ ports: [UInt16]) -> [UInt16] {
        var seen = [UInt64](repeating: 0, count: 1024)
        return ports.filter { port in
            let (word, bit) = (Int(port) / 64, UInt64(1) << (UInt64(port) % 64))
            defer { seen[word] |= bit }
            return seen[word] & bit == 0
        }
    }
}
