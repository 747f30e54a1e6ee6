import CNI
import Foundation
import JSON
@testable import PluginCore
import Testing

/// The examples in cni-conf/ are what operators copy: the plugin's own reader must accept them and
/// see the settings the README says they carry.
@Suite struct ExampleConfigTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("cni-conf").path + "/"

    func read(_ name: String) throws -> [UInt8] {
        let data = try #require(FileManager.default.contents(atPath: Self.directory + name), "cni-conf/\(name) is missing")
        return Array(data)
    }

    /// What a runtime hands the plugin for one list entry: the entry plus the list's name and version.
    func invocation(entry: JSONObject, list: JSONObject) -> [UInt8] {
        var config = entry
        config["cniVersion"] = list["cniVersion"]
        config["name"] = list["name"]
        return Array(JSONSerializer.serialize(.object(config)).utf8)
    }

    func expectIstioDefaults(_ settings: PluginSettings) {
        #expect(settings.kubeconfigPath == "/var/run/istio-cni/istio-cni-kubeconfig")
        #expect(settings.excludeNamespaces.contains("kube-system"))
        #expect(settings.agentNamespace == "istio-system")
        #expect(settings.backend == .nftables)
    }

    @Test func chainedEntryInsideTheExampleList() throws {
        let list = try #require(try JSONParser.parse(read("10-bridge-istio.conflist")).objectValue)
        let plugins = try #require(list["plugins"]?.arrayValue)
        #expect(plugins.last?["type"]?.stringValue == "istio-cni", "istio-cni runs last in the chain")
        let entry = try #require(plugins.last?.objectValue)
        let config = try NetworkConfig.parse(invocation(entry: entry, list: list))
        #expect(config.cniVersion == .v1_0_0)
        expectIstioDefaults(try PluginSettings(config))

        let standaloneEntry = try #require(try JSONParser.parse(read("istio-cni-entry.json")).objectValue)
        #expect(standaloneEntry["cniVersion"] == nil, "a chained entry takes the list's version")
        #expect(JSONSerializer.serialize(.object(standaloneEntry)) == JSONSerializer.serialize(.object(entry)),
                "the entry file is exactly what the example list carries")
    }

    @Test func standaloneConfigForMultus() throws {
        let config = try NetworkConfig.parse(read("istio-cni.conf"))
        #expect(config.cniVersion == .v0_3_1 && config.name == "istio-cni" && config.type == "istio-cni")
        #expect(config.prevResult == nil)
        expectIstioDefaults(try PluginSettings(config))
    }
}
