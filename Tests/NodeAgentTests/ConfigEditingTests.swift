import JSON
@testable import NodeAgent
import Testing

@Suite struct ConfigEditingTests {
    let entry = PluginEntry.chained(AgentConfiguration())

    @Test func appendsLastAndKeepsEverythingElse() throws {
        var list = try #require(try JSONParser.parse(NodeFixture.bridgeList).objectValue)
        // Two stale entries of ours (an older installer's duplicates) in the middle.
        list["plugins"] = .array((list["plugins"]?.arrayValue ?? []) + [.object(JSONObject([("type", "istio-cni"), ("old", true)]))]
                                 + [.object(JSONObject([("type", "tuning")])), .object(JSONObject([("type", "istio-cni")]))])
        let input = Array(JSONSerializer.serialize(.object(list)).utf8)
        let insertion = try ChainedConfigEditor.insert(entry, into: "/n/10-x.conflist", content: input)
        #expect(insertion.path == "/n/10-x.conflist" && insertion.replacedSingleConfig == nil)
        let output = try JSONParser.parse(insertion.content)
        #expect(output["cniVersion"] == "1.0.0" && output["name"] == "k8s-pod-network" && output["vendorKey"]?["kept"] == true)
        #expect(output["plugins"]?.arrayValue?.compactMap { $0["type"]?.stringValue } == ["bridge", "portmap", "tuning", "istio-cni"])
        #expect(output["plugins"]?.arrayValue?.last == .object(entry))
        #expect(ChainedConfigEditor.holdsExactly(entry, content: insertion.content))
        #expect(!ChainedConfigEditor.holdsExactly(entry, content: input))
        let again = try ChainedConfigEditor.insert(entry, into: "/n/10-x.conflist", content: insertion.content)
        #expect(again.content == insertion.content, "inserting twice changes nothing")
    }

    @Test func wrapsASingleConfKeepingItsVersion() throws {
        let insertion = try ChainedConfigEditor.insert(entry, into: "/n/10-calico.conf", content: Array(NodeFixture.calicoConf.utf8))
        #expect(insertion.path == "/n/10-calico.conflist" && insertion.replacedSingleConfig == "/n/10-calico.conf")
        let output = try JSONParser.parse(insertion.content)
        #expect(output["cniVersion"] == "0.3.1" && output["name"] == "k8s-pod-network")
        let plugins = try #require(output["plugins"]?.arrayValue)
        #expect(plugins.count == 2 && plugins[0]["type"] == "calico" && plugins[0]["cniVersion"] == nil && plugins[0]["log_level"] == "info")
        #expect(plugins[1] == .object(entry))
    }

    @Test func removesOnlyOurEntries() throws {
        let inserted = try ChainedConfigEditor.insert(entry, into: "/n/x.conflist", content: Array(NodeFixture.bridgeList.utf8)).content
        let removed = try #require(ChainedConfigEditor.removingEntry(from: inserted))
        #expect(try JSONParser.parse(removed) == JSONParser.parse(NodeFixture.bridgeList))
        #expect(ChainedConfigEditor.removingEntry(from: removed) == nil, "nothing of ours left: nothing to write")
    }

    @Test func malformedListsAreErrorsNamingTheFile() {
        #expect(throws: InstallError.self) {
            try ChainedConfigEditor.insert(entry, into: "/n/x.conflist", content: Array(#"{"name":"x","plugins":{"type":"bridge"}}"#.utf8))
        }
    }
}
