import CNI
import JSON
import Testing

/// A plugin that records which handlers the dispatcher called.
final class RecordingPlugin: PassThroughCNIPlugin, @unchecked Sendable {
    var calls: [String] = []
    var failure: CNIError?

    func add(_ request: CNIRequest) throws(CNIError) {
        calls.append("add")
        if let failure { throw failure }
    }

    func delete(environment: CNIEnvironment, config: NetworkConfig?, configProblem: CNIError?) throws(CNIError) {
        calls.append(configProblem == nil ? "delete" : "delete-without-config")
    }

    func check(_ request: CNIRequest) throws(CNIError) { calls.append("check") }
    func status(config: NetworkConfig) throws(CNIError) { calls.append("status") }
    func garbageCollect(config: NetworkConfig, validAttachments: [CNIAttachment]) throws(CNIError) {
        calls.append("gc:\(validAttachments.count)")
    }
}

@Suite struct DispatcherTests {
    static let environment = ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_NETNS": "/run/netns/x", "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin"]

    func run(_ command: String, _ stdin: String, plugin: RecordingPlugin = RecordingPlugin()) -> (CNIOutput, RecordingPlugin) {
        var environment = Self.environment
        environment["CNI_COMMAND"] = command
        let output = CNIDispatcher.run(environment: environment, readStdin: { () throws(CNIError) in Array(stdin.utf8) }, plugin: plugin)
        return (output, plugin)
    }

    @Test func addPrintsThePreviousResultInTheRequestVersion() throws {
        let (output, plugin) = run("ADD", #"{"cniVersion":"0.4.0","name":"n","type":"istio-cni","prevResult":{"cniVersion":"0.4.0","ips":[{"version":"4","address":"203.0.113.6/24"}]}}"#)
        #expect(output.exitCode == 0)
        #expect(output.stdout == #"{"cniVersion":"0.4.0","ips":[{"version":"4","address":"203.0.113.6/24"}],"dns":{}}"# + "\n")
        #expect(plugin.calls == ["add"])
    }

    @Test func unencodableResultFailsBeforeTheHandlerRuns() throws {
        let (output, plugin) = run("ADD", #"{"cniVersion":"0.2.0","name":"n","type":"istio-cni"}"#)
        #expect(output.exitCode == 1)
        #expect(try JSONParser.parse(output.stdout)["code"]?.int64Value == 1)
        #expect(plugin.calls.isEmpty)
    }

    @Test func handlerErrorsBecomeOneErrorDocument() throws {
        let failing = RecordingPlugin()
        failing.failure = CNIError(.tryAgainLater, "pod x: API down", details: "refused")
        let (output, _) = run("ADD", #"{"cniVersion":"1.0.0","name":"n","type":"istio-cni"}"#, plugin: failing)
        #expect(output.exitCode == 1)
        let document = try JSONParser.parse(output.stdout)
        #expect(document == .object(JSONObject([("cniVersion", "1.0.0"), ("code", 11), ("msg", "pod x: API down"), ("details", "refused")])))
    }

    @Test func versionGatesForCheckStatusAndGC() throws {
        #expect(run("CHECK", #"{"cniVersion":"0.3.1","name":"n","type":"t"}"#).1.calls.isEmpty)
        #expect(run("CHECK", #"{"cniVersion":"0.4.0","name":"n","type":"t"}"#).1.calls == ["check"])
        #expect(try JSONParser.parse(run("STATUS", #"{"cniVersion":"1.0.0","name":"n","type":"t"}"#).0.stdout)["code"]?.int64Value == 1)
        #expect(run("STATUS", #"{"cniVersion":"1.1.0","name":"n","type":"t"}"#).1.calls == ["status"])
        let gc = run("GC", #"{"cniVersion":"1.1.0","name":"n","type":"t","cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}],"cni.dev/attachments":[{"containerID":"a","ifname":"eth0"},{"containerID":"b","ifname":"eth0"}]}"#)
        #expect(gc.1.calls == ["gc:2"])
        #expect(gc.0.stdout.isEmpty)
    }

    @Test func deleteRunsEvenWithABrokenConfiguration() {
        let (output, plugin) = run("DEL", "garbage")
        #expect(output.exitCode == 0)
        #expect(output.stdout.isEmpty)
        #expect(plugin.calls == ["delete-without-config"])
    }

    @Test func versionAnswersWithTheSupportedList() throws {
        let (output, _) = run("VERSION", #"{"cniVersion":"0.3.1"}"#)
        #expect(output.stdout == #"{"cniVersion":"0.3.1","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}"# + "\n")
        #expect(try JSONParser.parse(run("VERSION", "not json").0.stdout)["cniVersion"] == "1.1.0")
    }

    @Test func stdinFailureIsAnIOError() throws {
        let output = CNIDispatcher.run(environment: Self.environment, readStdin: { () throws(CNIError) in
            throw CNIError(.ioFailure, "reading stdin failed")
        }, plugin: RecordingPlugin())
        #expect(try JSONParser.parse(output.stdout)["code"]?.int64Value == 5)
    }
}
