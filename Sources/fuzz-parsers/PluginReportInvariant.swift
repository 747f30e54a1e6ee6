import JSON
import PluginCore

/// What the agent's reading of a plugin report must keep for any body: no trap, and a report it takes
/// in keeps every bound and survives being written and read again unchanged.
enum PluginReportInvariant {
    static func check(_ bytes: [UInt8]) {
        guard let report = try? PluginReport.parse(bytes) else { return }
        if report.entries.count > PluginReport.maximumEntries || report.entries.contains(where: { $0.message.utf8.count > PluginReport.maximumMessageBytes }) {
            fatalError("a report past its bounds was taken in")
        }
        if let seconds = report.durationSeconds, !(seconds.isFinite && seconds >= 0 && seconds <= PluginReport.maximumDurationSeconds) {
            fatalError("a duration of \(seconds) s was taken in")
        }
        let written = Array(JSONSerializer.serialize(report.json).utf8)
        guard let again = try? PluginReport.parse(written), again == report else { fatalError("a report does not survive writing it again") }
    }
}
