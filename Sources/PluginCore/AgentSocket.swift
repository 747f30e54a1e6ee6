/// The node agent's Unix socket in the run directory and the requests it answers. The agent (NodeAgent)
/// serves it; the plugin is the client. Only root may connect (the agent checks SO_PEERCRED).
public enum AgentSocket {
    public static let fileName = "agent.sock"

    /// `GET` — a pod from the agent's cache: 200 with the Pod object; 404 when the agent has not seen it
    /// (within `waitMilliseconds`, or with another `uid`); 503 while its cache is not synced.
    public static func podTarget(namespace: String, name: String, uid: String?, waitMilliseconds: Int) -> String {
        var target = "/v1/pods/\(namespace)/\(name)?waitMilliseconds=\(waitMilliseconds)"
        if let uid, (1...64).contains(uid.utf8.count), uid.utf8.allSatisfy(isUIDByte) { target += "&uid=\(uid)" }
        return target
    }

    /// `POST` — the report of one plugin invocation (JSON, see `AgentReport`).
    public static let reportTarget = "/v1/plugin-report"

    public static func path(runDirectory: String) -> String {
        runDirectory + "/" + fileName
    }

    private static func isUIDByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) || (0x41...0x46).contains(byte) || byte == UInt8(ascii: "-")
    }
}
