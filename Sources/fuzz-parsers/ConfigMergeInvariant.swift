import CNI
import JSON

/// What the agent's config edit must keep for any primary config: the primary's own plugins in
/// their order, its other keys, its cniVersion, and exactly one istio-cni entry, last; inserting
/// twice changes nothing, and removing gives the primary's plugins back.
enum ConfigMergeInvariant {
    static let entry = JSONObject([("type", .string("istio-cni")), ("name", .string("istio-cni")), ("cni_agent_run_dir", .string("/var/run/istio-cni"))])

    /// The first byte picks the file name's suffix; the rest is the file.
    static func check(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let path = "/etc/cni/net.d/10-fuzz" + [".conflist", ".conf", ".json"][Int(selector) % 3]
        let content = Array(bytes.dropFirst())
        guard let insertion = try? ConfigListEditor.insert(entry, into: path, content: content) else { return }
        guard let input = (try? JSONParser.parse(content))?.objectValue,
              let output = (try? JSONParser.parse(insertion.content))?.objectValue,
              let plugins = output["plugins"]?.arrayValue else { fail("the edit is not a list", content, insertion.content) }
        let kept = plugins.dropLast()
        if plugins.last != .object(entry) || kept.contains(where: isOurs) { fail("not exactly one entry, last", content, insertion.content) }
        if path.hasSuffix(".conflist") {
            let primary = input["plugins"]?.arrayValue?.filter { !isOurs($0) }
            if Array(kept) != primary { fail("the primary's plugins changed", content, insertion.content) }
            for (key, value) in input.members where key != "plugins" && output[key] != value { fail("key \(key) changed", content, insertion.content) }
        } else {
            var single = input
            single["cniVersion"] = nil
            if Array(kept) != [.object(single)] || output["cniVersion"] != (input["cniVersion"] ?? .string("0.3.1")) {
                fail("the wrapped config changed", content, insertion.content)
            }
        }
        guard let again = try? ConfigListEditor.insert(entry, into: insertion.path, content: insertion.content), again.content == insertion.content else {
            fail("a second insert changed the file", content, insertion.content)
        }
        guard let removed = ConfigListEditor.removing(type: "istio-cni", from: insertion.content),
              (try? JSONParser.parse(removed))?["plugins"]?.arrayValue == Array(kept) else {
            fail("removing the entry did not give the primary back", content, insertion.content)
        }
    }

    private static func isOurs(_ plugin: JSONValue) -> Bool { plugin["type"]?.stringValue == "istio-cni" }

    private static func fail(_ what: String, _ input: [UInt8], _ output: [UInt8]) -> Never {
        fatalError("\(what)\ninput: \(String(decoding: input, as: UTF8.self))\noutput: \(String(decoding: output, as: UTF8.self))")
    }
}
