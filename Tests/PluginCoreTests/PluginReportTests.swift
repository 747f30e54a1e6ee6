import JSON
import PluginCore
import Testing

/// The plugin's report to the agent: what the plugin writes always parses back, and a hostile body is
/// refused naming the field, never trapping on its numbers or sizes.
@Suite struct PluginReportTests {
    @Test func whatThePluginSendsParsesBack() throws {
        let report = PluginReport(command: "ADD", outcome: "rules applied", pod: "default/web", containerID: "c0ffee",
                                  durationSeconds: 0.0042, entries: [.init(level: "info", message: "pod from the API server")], error: nil)
        #expect(try PluginReport.parse(Array(JSONSerializer.serialize(report.json).utf8)) == report)
    }

    @Test func theSenderTrimsToTheBoundsTheAgentKeeps() throws {
        let long = String(repeating: "é", count: PluginReport.maximumMessageBytes)
        let entries = Array(repeating: PluginReport.Entry(level: "warn", message: long), count: PluginReport.maximumEntries + 10)
        let report = PluginReport(command: "DEL", outcome: long, pod: long, containerID: long, durationSeconds: .infinity, entries: entries, error: long)
        let parsed = try PluginReport.parse(Array(JSONSerializer.serialize(report.json).utf8))
        #expect(parsed.entries.count == PluginReport.maximumEntries)
        #expect(parsed.entries[0].message.utf8.count <= PluginReport.maximumMessageBytes && parsed.entries[0].message.hasSuffix("é…"))
        #expect(parsed.outcome.utf8.count <= PluginReport.maximumNameBytes && parsed.durationSeconds == 0)
    }

    @Test(arguments: [
        (#"{"command":"ADD","outcome":"done","durationSeconds":1e400}"#, #"durationSeconds "1e400" is not a duration between 0 and 3600 s"#),
        (#"{"command":"ADD","outcome":"done","durationSeconds":-1}"#, #"durationSeconds "-1" is not a duration"#),
        (#"{"command":"ADD","outcome":"done","durationSeconds":"5"}"#, "durationSeconds is a string, not a number"),
        (#"{"command":"RM -RF","outcome":"done"}"#, #"command "RM -RF" is not a CNI command"#),
        (#"{"command":"ADD"}"#, "outcome is missing"),
        (#"{"command":"ADD","outcome":7}"#, "outcome is a number, not a string"),
        (#"{"command":"ADD","outcome":"done","entries":{}}"#, "entries is an object, not an array"),
        (#"{"command":"ADD","outcome":"done","entries":[{"level":"debug","message":"x"}]}"#, #"entry level "debug" is not info, warn or error"#),
        (#"{"command":"ADD","outcome":"done","entries":[7]}"#, "an entry is a number, not an object"),
        (#"[1,2]"#, "not a JSON object"),
        ("{\"command\":\"ADD\",\"outcome\":\"done\"", "not a JSON object"),
    ])
    func hostileReportsAreRefusedNamingTheField(body: String, message: String) {
        #expect {
            try PluginReport.parse(Array(body.utf8))
        } throws: { error in
            (error as? PluginReportError)?.description.hasPrefix(message) == true
        }
    }

    @Test func oversizedFieldsAndListsAreRefused() {
        let entry = #"{"level":"info","message":"x"}"#
        let many = #"{"command":"ADD","outcome":"done","entries":["# + Array(repeating: entry, count: 257).joined(separator: ",") + "]}"
        let long = #"{"command":"ADD","outcome":"done","error":""# + String(repeating: "x", count: 16 * 1024 + 1) + #""}"#
        for (body, message) in [(many, "257 entries, more than 256"), (long, "error is 16385 bytes, more than 16384")] {
            #expect(throws: PluginReportError(message)) { try PluginReport.parse(Array(body.utf8)) }
        }
    }
}
