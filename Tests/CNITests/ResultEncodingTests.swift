import CNI
import JSON
import Testing

/// Every spec version's Success result: decoding a prevResult in that version's shape and encoding
/// it back, and converting between shapes the way libcni does.
@Suite struct ResultEncodingTests {
    static let legacy = #"{"cniVersion":"0.2.0","ip4":{"ip":"203.0.113.6/24","gateway":"203.0.113.1","routes":[{"dst":"0.0.0.0/0","gw":"203.0.113.1"}]},"ip6":{"ip":"2001:db8::6/64"},"dns":{"nameservers":["192.0.2.53"]}}"#
    static let versioned = #"{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","sandbox":"/run/netns/x"}],"ips":[{"version":"4","interface":0,"address":"203.0.113.6/24","gateway":"203.0.113.1"},{"version":"6","interface":0,"address":"2001:db8::6/64"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{}}"#
    static let unversioned = #"{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","sandbox":"/run/netns/x"}],"ips":[{"interface":0,"address":"203.0.113.6/24","gateway":"203.0.113.1"},{"interface":0,"address":"2001:db8::6/64"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{}}"#
    static let extended = #"{"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff","mtu":1450,"sandbox":"/run/netns/x","socketPath":"/run/s","pciID":"0000:00:01.0"}],"ips":[{"interface":0,"address":"203.0.113.6/24","gateway":"203.0.113.1"}],"routes":[{"dst":"0.0.0.0/0","gw":"203.0.113.1","mtu":1400,"advmss":1360,"priority":10,"table":100,"scope":0}],"dns":{"nameservers":["192.0.2.53"],"domain":"cluster.local","search":["svc.cluster.local"],"options":["ndots:5"]}}"#

    func roundTrip(_ text: String, as version: CNIVersion) throws -> String {
        let result = try CNIResultDecoder.decode(try JSONParser.parse(text), version: version)
        return JSONSerializer.serialize(try CNIResultEncoder.encode(result, version: version))
    }

    @Test func everyShapeRoundTripsUnchanged() throws {
        for version in [CNIVersion.v0_1_0, .v0_2_0] {
            let text = Self.legacy.replacingOccurrences(of: "0.2.0", with: version.rawValue)
            #expect(try roundTrip(text, as: version) == text)
        }
        for version in [CNIVersion.v0_3_0, .v0_3_1, .v0_4_0] {
            let text = Self.versioned.replacingOccurrences(of: "0.4.0", with: version.rawValue)
            #expect(try roundTrip(text, as: version) == text)
        }
        #expect(try roundTrip(Self.unversioned, as: .v1_0_0) == Self.unversioned)
        #expect(try roundTrip(Self.extended, as: .v1_1_0) == Self.extended)
    }

    @Test func convertsBetweenShapes() throws {
        let fromLegacy = try CNIResultDecoder.decode(try JSONParser.parse(Self.legacy), version: .v0_2_0)
        #expect(JSONSerializer.serialize(try CNIResultEncoder.encode(fromLegacy, version: .v1_0_0))
                == #"{"cniVersion":"1.0.0","ips":[{"address":"203.0.113.6/24","gateway":"203.0.113.1"},{"address":"2001:db8::6/64"}],"routes":[{"dst":"0.0.0.0/0","gw":"203.0.113.1"}],"dns":{"nameservers":["192.0.2.53"]}}"#)
        let fromVersioned = try CNIResultDecoder.decode(try JSONParser.parse(Self.versioned), version: .v0_4_0)
        #expect(JSONSerializer.serialize(try CNIResultEncoder.encode(fromVersioned, version: .v1_0_0))
                == Self.unversioned)
        #expect(JSONSerializer.serialize(try CNIResultEncoder.encode(fromVersioned, version: .v0_2_0))
                == #"{"cniVersion":"0.2.0","ip4":{"ip":"203.0.113.6/24","gateway":"203.0.113.1","routes":[{"dst":"0.0.0.0/0"}]},"ip6":{"ip":"2001:db8::6/64"},"dns":{}}"#)
        let fromExtended = try CNIResultDecoder.decode(try JSONParser.parse(Self.extended), version: .v1_1_0)
        let asOneZero = JSONSerializer.serialize(try CNIResultEncoder.encode(fromExtended, version: .v1_0_0))
        #expect(!asOneZero.contains("mtu") && !asOneZero.contains("socketPath") && !asOneZero.contains("advmss"))
    }

    @Test func emptyResultPerVersion() throws {
        for version in CNIVersion.allCases where version >= .v0_3_0 {
            #expect(JSONSerializer.serialize(try CNIResultEncoder.encode(.empty, version: version)) == #"{"cniVersion":"\#(version.rawValue)","dns":{}}"#)
        }
        for version in [CNIVersion.v0_1_0, .v0_2_0] {
            #expect {
                try CNIResultEncoder.encode(.empty, version: version)
            } throws: { error in
                (error as? CNIError)?.code == .incompatibleVersion && (error as? CNIError)?.message.contains("without an IP address") == true
            }
        }
    }

    @Test(arguments: [
        (#"{"ip4":{"ip":"203.0.113.6/24"}}"#, CNIVersion.v1_0_0, "prevResult has \"ip4\""),
        (#"{"ips":[{"address":"203.0.113.6/24"}]}"#, CNIVersion.v0_2_0, "prevResult has \"ips\""),
        (#"{"ips":[{"address":"203.0.113.6/24"}]}"#, CNIVersion.v0_4_0, "prevResult.ips[0].version is missing"),
        (#"{"ips":[{"version":"6","address":"203.0.113.6/24"}]}"#, CNIVersion.v0_3_1, "does not match address"),
        (#"{"ips":[{"address":"203.0.113.6"}]}"#, CNIVersion.v1_0_0, "not an address with prefix length"),
        (#"{"ips":[{"address":"203.0.113.6/24","interface":2}]}"#, CNIVersion.v1_0_0, "index 2 does not name"),
        (#"{"routes":[{"dst":"0.0.0.0/0","gw":"nope"}]}"#, CNIVersion.v1_0_0, "routes[0].gw \"nope\" is not an IP address"),
        (#"{"interfaces":"eth0"}"#, CNIVersion.v1_0_0, "interfaces must be an array"),
        (#"[]"#, CNIVersion.v1_0_0, "must be an object"),
    ])
    func rejectsResultsNotMatchingTheirVersion(text: String, version: CNIVersion, fragment: String) {
        #expect {
            try CNIResultDecoder.decode(try JSONParser.parse(text), version: version)
        } throws: { error in
            let cniError = error as? CNIError
            return cniError?.code == .decodingFailure && cniError?.message.contains(fragment) == true
        }
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
