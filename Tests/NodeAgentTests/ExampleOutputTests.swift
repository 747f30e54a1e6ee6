import Foundation
import JSON
@testable import NodeAgent
import Testing

/// cni-conf/ shows what the agent writes: checked against the agent's own output for its defaults.
@Suite struct ExampleOutputTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("cni-conf")

    func example(_ name: String) throws -> JSONValue {
        try JSONParser.parse(try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8))
    }

    var defaults: AgentConfiguration {
        var configuration = AgentConfiguration()
        configuration.podNamespace = "istio-system"
        configuration.excludeNamespaces = ["kube-system"]
        return configuration
    }

    @Test func entryAndChainedListsAreWhatTheAgentWrites() throws {
        #expect(try example("istio-cni-entry.json") == .object(PluginEntry.chained(defaults)))
        for name in ["10-bridge-istio.conflist", "10-calico-istio.conflist"] {
            let list = try #require(try example(name).objectValue)
            let primary = try #require(ChainedConfigEditor.removingEntry(from: Array(JSONSerializer.serialize(.object(list)).utf8)))
            let written = try ChainedConfigEditor.insert(PluginEntry.chained(defaults), into: "/etc/cni/net.d/" + name, content: primary)
            #expect(try JSONParser.parse(written.content) == .object(list), "\(name) is the agent's output for its primary")
        }
    }

    @Test func standaloneFileIsWhatTheAgentWrites() throws {
        var multus = defaults
        multus.excludeNamespaces = ["kube-system", "openshift-operators"]
        #expect(try example("istio-cni.conf") == .object(PluginEntry.standalone(multus)))
    }
}
