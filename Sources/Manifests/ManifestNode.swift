import Yams

/// Builds YAML nodes for Kubernetes objects with keys in the order written, and quotes every string
/// that YAML would otherwise read as something else ("true", "8000", "").
enum Y {
    static func map(_ pairs: [(String, Node?)]) -> Node {
        Node(pairs.compactMap { key, value in value.map { (Node(key), $0) } })
    }

    static func list(_ nodes: [Node]) -> Node {
        Node(nodes)
    }

    static func string(_ text: String) -> Node {
        let plain = Node(text)
        return plain.tag.rawValue == Tag.Name.str.rawValue && !text.isEmpty ? plain : Node(text, .implicit, .doubleQuoted)
    }

    static func int(_ value: Int) -> Node {
        Node(String(value))
    }

    static func bool(_ value: Bool) -> Node {
        Node(value ? "true" : "false")
    }

    static func strings(_ values: [String]) -> Node {
        list(values.map(string))
    }

    static func labels(_ pairs: [(String, String)]) -> Node {
        map(pairs.map { ($0.0, string($0.1)) })
    }
}
