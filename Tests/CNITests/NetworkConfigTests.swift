import CNI
import JSON
import Testing

@Suite struct NetworkConfigTests {
    func parse(_ text: String) throws(CNIError) -> NetworkConfig {
        try NetworkConfig.parse(Array(text.utf8))
    }

    @Test func keepsUnknownKeysAndReadsTypedOnes() throws {
        let config = try parse(#"{"cniVersion":"1.0.0","name":"net","type":"istio-cni","future_key":{"x":1},"exclude_namespaces":["a"],"flag":true,"n":2.5}"#)
        #expect(config.raw["future_key"]?["x"]?.int64Value == 1)
        #expect(try config.stringList("exclude_namespaces") == ["a"])
        #expect(try config.bool("flag") == true)
        #expect(try config.number("n") == 2.5)
        #expect(try config.string("absent") == nil)
        #expect(throws: CNIError.self) { try config.string("flag") }
    }

    @Test func missingVersionMeansTheLegacyFormat() throws {
        #expect(try parse(#"{"name":"n","type":"t"}"#).cniVersion == .v0_1_0)
    }

    @Test func validatesStandardKeys() {
        for (text, code, fragment) in [
            (#"{"cniVersion":"9.9.9","name":"n","type":"t"}"#, 1, "config is \"9.9.9\""),
            (#"{"cniVersion":1,"name":"n","type":"t"}"#, 6, "cniVersion"),
            (#"{"cniVersion":"1.0.0","name":"-bad","type":"t"}"#, 7, "\"-bad\""),
            (#"{"cniVersion":"1.0.0","name":"n","type":""}"#, 7, "\"type\""),
            (#"{"cniVersion":"1.0.0","name":"n","type":"t","prevResult":{"cniVersion":"7.0"}}"#, 6, "prevResult.cniVersion"),
        ] {
            #expect {
                try parse(text)
            } throws: { error in
                let cniError = error as? CNIError
                return cniError?.code.rawValue == code && (cniError?.description.contains(fragment) ?? false)
            }
        }
    }

    @Test func prevResultIsReadInItsOwnVersion() throws {
        let config = try parse(#"{"cniVersion":"1.0.0","name":"n","type":"t","prevResult":{"cniVersion":"0.4.0","ips":[{"version":"4","address":"203.0.113.6/24"}]}}"#)
        #expect(config.prevResult?.ips.first?.address == "203.0.113.6/24")
    }
}
