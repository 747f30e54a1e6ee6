import CNI
import Interception
import Testing

/// Every interception knob of reference §2.1: annotation (or env) in, policy field out.
@Suite struct PolicyTests {
    func policy(_ annotations: [String: String] = [:], proxyEnvironment: [String: String] = [:], runAsUser: Int64? = nil,
                runAsGroup: Int64? = nil, processEnvironment: [String: String] = [:]) throws -> InterceptionPolicy {
        let pod = MeshSelectionTests.meshPod(annotations: annotations,
                                             proxy: ContainerFacts(name: "istio-proxy", args: ["proxy", "sidecar"], environment: proxyEnvironment,
                                                                   runAsUser: runAsUser, runAsGroup: runAsGroup))
        guard case .intercept(let policy) = try MeshSelection.decide(pod, processEnvironment: processEnvironment) else {
            Issue.record("pod was skipped")
            return InterceptionPolicy()
        }
        return policy
    }

    func problem(_ annotations: [String: String] = [:], runAsUser: Int64? = nil, processEnvironment: [String: String] = [:]) -> InterceptionError? {
        do {
            _ = try policy(annotations, runAsUser: runAsUser, processEnvironment: processEnvironment)
            return nil
        } catch {
            return error as? InterceptionError
        }
    }

    @Test func defaults() throws {
        let defaults = try policy()
        #expect(defaults == InterceptionPolicy())
        #expect(defaults.inboundPortsInclude == .all)
        #expect(defaults.inboundPortsExclude == [15020, 15021, 15090])
        #expect(defaults.outboundPortsExclude == [15020])
        #expect(defaults.outboundIPRangesInclude == .all)
        #expect(defaults.proxyUID == 1337 && defaults.proxyGID == 1337)
    }

    @Test func portsAsIstioParsesThem() throws {
        // strconv.ParseUint(s, 10, 16) after strings.TrimSpace: 0, any leading zeros, any whitespace.
        #expect(try policy(["traffic.sidecar.istio.io/includeInboundPorts": "0,065535,00080"]).inboundPortsInclude == .ports([0, 65535, 80]))
        #expect(try policy(["traffic.sidecar.istio.io/excludeOutboundPorts": "9090,\n 9091\n"]).outboundPortsExclude == [9090, 9091])
        #expect(try policy(["traffic.sidecar.istio.io/excludeInboundPorts": String(repeating: "0", count: 40) + "7"]).inboundPortsExclude.first == 7)
    }

    @Test func listsHaveNoEntryLimitBelowTheAnnotationLimit() throws {
        let ports = (1...10_000).map(String.init).joined(separator: ",")
        #expect(try policy(["traffic.sidecar.istio.io/excludeOutboundPorts": ports]).outboundPortsExclude.count == 10_000)
        let cidrs = (0..<10_000).map { "10.\($0 / 256).\($0 % 256).0/24" }.joined(separator: ",")
        #expect(try policy(["traffic.sidecar.istio.io/excludeOutboundIPRanges": cidrs]).outboundIPRangesExclude.count == 10_000)
        let tooLong = String(repeating: "80,", count: 90_000) + "80"
        #expect(problem(["traffic.sidecar.istio.io/excludeOutboundPorts": tooLong])?.problem.contains("at most 262144") == true)
    }

    @Test func ownerGroupsTakeNamesAndIDs() throws {
        #expect(try policy(processEnvironment: ["ISTIO_OUTBOUND_OWNER_GROUPS": "java,202"]).ownerGroups == .only([.name("java"), .id(202)]))
        #expect(try policy(processEnvironment: ["ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE": "wheel,,100"]).ownerGroups == .allExcept([.name("wheel"), .id(100)]),
                "empty entries are dropped, as Istio's Split does")
        let tooMany = (1...65).map(String.init).joined(separator: ",")
        #expect(problem(processEnvironment: ["ISTIO_OUTBOUND_OWNER_GROUPS": tooMany])?.problem.contains("at most 64") == true)
        let odd = problem(processEnvironment: ["ISTIO_OUTBOUND_OWNER_GROUPS": "java,-x"])
        #expect(odd?.source == "ISTIO_OUTBOUND_OWNER_GROUPS" && odd?.problem.contains("\"-x\"") == true)
        #expect(problem(processEnvironment: ["ISTIO_OUTBOUND_OWNER_GROUPS": "a b"]) != nil)
    }

    struct Groups: GroupDirectory {
        let known: [String: UInt32]
        func groupID(named name: String) -> UInt32? { known[name] }
    }

    @Test func groupNamesResolveOnTheNodeOrNameTheUnknownOne() throws {
        let named = try policy(processEnvironment: ["ISTIO_OUTBOUND_OWNER_GROUPS": "java,202"])
        #expect(named.ownerGroupNames == ["java"])
        let resolved = try named.resolvingGroupNames(in: Groups(known: ["java": 1500]))
        #expect(resolved.ownerGroups == .only([.id(1500), .id(202)]))
        #expect(resolved.ownerGroupNames.isEmpty)
        do {
            _ = try named.resolvingGroupNames(in: Groups(known: [:]))
            Issue.record("an unknown group resolved")
        } catch {
            #expect(error.source == "ISTIO_OUTBOUND_OWNER_GROUPS")
            #expect(error.description.contains("group \"java\" does not exist on this node"), "\(error)")
        }
    }

    @Test func portKnobs() throws {
        #expect(try policy(["traffic.sidecar.istio.io/includeInboundPorts": "8080, 9090"]).inboundPortsInclude == .ports([8080, 9090]))
        #expect(try policy(["traffic.sidecar.istio.io/includeInboundPorts": ""]).inboundPortsInclude == .ports([]))
        #expect(try policy(["traffic.sidecar.istio.io/excludeInboundPorts": "3306,15021"]).inboundPortsExclude == [3306, 15021, 15020, 15090])
        #expect(try policy(["traffic.sidecar.istio.io/excludeInboundPorts": ""]).inboundPortsExclude == [15020, 15021, 15090])
        #expect(try policy(["traffic.sidecar.istio.io/includeOutboundPorts": "7070,7070"]).outboundPortsInclude == [7070])
        #expect(try policy(["traffic.sidecar.istio.io/excludeOutboundPorts": "5555,6666"]).outboundPortsExclude == [5555, 6666])
        #expect(try policy(["traffic.sidecar.istio.io/excludeOutboundPorts": ""]).outboundPortsExclude == [])
    }

    @Test func rangeKnobs() throws {
        let included = try policy(["traffic.sidecar.istio.io/includeOutboundIPRanges": "10.1.2.3/8,2001:db8::/32"])
        #expect(included.outboundIPRangesInclude == .ranges([IPPrefix("10.0.0.0/8")!, IPPrefix("2001:db8::/32")!]))
        #expect(try policy(["traffic.sidecar.istio.io/includeOutboundIPRanges": ""]).outboundIPRangesInclude == .ranges([]))
        #expect(try policy(["traffic.sidecar.istio.io/excludeOutboundIPRanges": "192.0.2.0/24"]).outboundIPRangesExclude == [IPPrefix("192.0.2.0/24")!])
        #expect(try policy(["traffic.sidecar.istio.io/includeOutboundIPRanges": "127.0.0.0/8"]).outboundIPRangesInclude.includesLoopback)
    }

    @Test func interfaceKnobs() throws {
        #expect(try policy(["traffic.sidecar.istio.io/excludeInterfaces": "eth1,tun+"]).excludeInterfaces == ["eth1", "tun+"])
        #expect(try policy(["traffic.sidecar.istio.io/kubevirtInterfaces": "k6t-eth0"]).rerouteInterfaces == ["k6t-eth0"])
        #expect(try policy(["istio.io/reroute-virtual-interfaces": "vnet0", "traffic.sidecar.istio.io/kubevirtInterfaces": "k6t-eth0"]).rerouteInterfaces
                == ["vnet0"], "the newer annotation wins")
    }

    @Test func proxyIdentityAndEnvironment() throws {
        let custom = try policy(runAsUser: 1_000_670_000, runAsGroup: 1_000_670_001)
        #expect(custom.proxyUID == 1_000_670_000 && custom.proxyGID == 1_000_670_001)
        let root = try policy(runAsUser: 0, runAsGroup: 0)
        #expect(root.proxyUID == 1337 && root.proxyGID == 1337)
        let environment = try policy(proxyEnvironment: ["ISTIO_META_DNS_CAPTURE": "true", "ISTIO_DUAL_STACK": "1", "INVALID_DROP": "T"])
        #expect(environment.captureDNS && environment.dualStack && environment.dropInvalid)
        #expect(try !policy(proxyEnvironment: ["ISTIO_META_DNS_CAPTURE": "yes"]).captureDNS, "lenient like Istio")
        #expect(try policy(["sidecar.istio.io/interceptionMode": "TPROXY"]).mode == .tproxy)
    }

    @Test func nodeWideEnvironmentKnobs() throws {
        #expect(try policy(processEnvironment: ["ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR": "127.0.0.0/8"]).hostIPv4LoopbackCIDR == IPPrefix("127.0.0.0/8")!)
        #expect(try policy(processEnvironment: ["ISTIO_OUTBOUND_OWNER_GROUPS_EXCLUDE": "100,200"]).ownerGroups == .allExcept([.id(100), .id(200)]))
        #expect(try policy(processEnvironment: ["ISTIO_OUTBOUND_OWNER_GROUPS": "300"]).ownerGroups == .only([.id(300)]))
        #expect(problem(processEnvironment: ["ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR": "10.0.0.0/8"])?.source == "ISTIO_OUTBOUND_IPV4_LOOPBACK_CIDR")
    }

    @Test(arguments: [
        ("traffic.sidecar.istio.io/includeInboundPorts", "-1", "\"-1\" is not a port number between 0 and 65535"),
        ("traffic.sidecar.istio.io/includeInboundPorts", "*,80", "cannot be combined"),
        ("traffic.sidecar.istio.io/excludeInboundPorts", "*", "'*' is not allowed"),
        ("traffic.sidecar.istio.io/includeOutboundPorts", "+80", "is not a port number"),
        ("traffic.sidecar.istio.io/excludeOutboundPorts", "65536", "is not a port number"),
        ("traffic.sidecar.istio.io/includeOutboundIPRanges", "10.0.0.0/8\u{1}", "is not a CIDR"),
        ("traffic.sidecar.istio.io/excludeInboundPorts", "80\u{1}", "is not a port number"),
        ("traffic.sidecar.istio.io/excludeOutboundIPRanges", "10.0.0.0/8,", "entry 2 is empty"),
        ("traffic.sidecar.istio.io/excludeInterfaces", "a-very-long-interface-name", "is not an interface name"),
        ("traffic.sidecar.istio.io/excludeInterfaces", "+", "is not an interface name"),
        ("sidecar.istio.io/interceptionMode", "tproxy", "must be REDIRECT, TPROXY or NONE"),
    ])
    func invalidValuesNameTheirAnnotation(key: String, value: String, fragment: String) throws {
        let error = try #require(problem([key: value]))
        #expect(error.source == key)
        #expect(error.value == value)
        #expect(error.description.contains(fragment), "\(error)")
    }

    @Test func invalidProxyIdentity() {
        #expect(problem(runAsUser: -5)?.source == "istio-proxy securityContext.runAsUser")
    }
}
