import JSON
import Testing
import TestSupport

/// Each cniVersion through the real binary: prevResult passed through in that version's shape.
@Suite struct SpecVersionMatrixTests {
    static let prevResults: [String: String] = [
        "0.1.0": #"{"cniVersion":"0.1.0","ip4":{"ip":"203.0.113.6/24","gateway":"203.0.113.1"},"dns":{}}"#,
        "0.2.0": #"{"cniVersion":"0.2.0","ip4":{"ip":"203.0.113.6/24","gateway":"203.0.113.1"},"dns":{}}"#,
        "0.3.0": #"{"cniVersion":"0.3.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/x"}],"ips":[{"version":"4","interface":0,"address":"203.0.113.6/24"}],"dns":{}}"#,
        "0.3.1": #"{"cniVersion":"0.3.1","interfaces":[{"name":"eth0","sandbox":"/run/netns/x"}],"ips":[{"version":"4","interface":0,"address":"203.0.113.6/24"}],"dns":{}}"#,
        "0.4.0": #"{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/x"}],"ips":[{"version":"4","interface":0,"address":"203.0.113.6/24"}],"dns":{}}"#,
        "1.0.0": #"{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/x"}],"ips":[{"interface":0,"address":"203.0.113.6/24"}],"dns":{}}"#,
        "1.1.0": #"{"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mtu":1450,"sandbox":"/run/netns/x"}],"ips":[{"interface":0,"address":"203.0.113.6/24"}],"routes":[{"dst":"0.0.0.0/0","table":100}],"dns":{}}"#,
    ]

    @Test(arguments: ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"])
    func addPassesThePreviousResultThrough(version: String) throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let namespace = try TestNamespace("ver")
        let prevResult = try JSONParser.parse(try #require(Self.prevResults[version]))
        let add = try harness.run("ADD", netns: namespace.path, config: harness.config(cniVersion: version, prevResult: prevResult))
        #expect(add.status == 0, "\(add.stdout)")
        #expect(add.stdout == Self.prevResults[version]! + "\n")
        #expect(try namespace.nftListing().contains("istio-proxy-nat"), "rules are programmed in every version")

        let empty = try harness.run("ADD", netns: namespace.path, pod: nil, namespace: nil, config: harness.config(cniVersion: version))
        if version == "0.1.0" || version == "0.2.0" {
            #expect(empty.status == 1 && empty.errorCode == 1, "these versions cannot express an empty result")
        } else {
            #expect(empty.stdout == #"{"cniVersion":"\#(version)","dns":{}}"# + "\n")
        }
    }
}
