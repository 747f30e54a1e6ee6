import Yams

/// Strict, path-aware reading of one mapping of the values: every key must be read by the decoder, so
/// a misspelt or unsupported key is an error naming its full path, as is a value of the wrong type.
final class ValuesReader {
    let path: String
    private let pairs: [(String, Node)]
    private var consumed: Set<String> = []
    private var children: [ValuesReader] = []

    init(_ pairs: [(String, Node)], path: String) {
        self.pairs = pairs
        self.path = path
    }

    private func node(_ key: String) -> Node? {
        consumed.insert(key)
        guard let node = pairs.first(where: { $0.0 == key })?.1 else { return nil }
        if case .scalar(let scalar) = node, scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null", scalar.style == .plain || scalar.style == .any {
            return nil
        }
        return node
    }

    private func at(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func string(_ key: String, _ fallback: String) throws(ManifestError) -> String {
        guard let node = node(key) else { return fallback }
        guard case .scalar(let scalar) = node else { throw ManifestError(at(key), "expected a string") }
        return scalar.string
    }

    func optionalString(_ key: String) throws(ManifestError) -> String? {
        let value = try string(key, "")
        return value.isEmpty ? nil : value
    }

    func bool(_ key: String, _ fallback: Bool) throws(ManifestError) -> Bool {
        guard let node = node(key) else { return fallback }
        guard let value = node.bool else { throw ManifestError(at(key), "expected true or false, got \(Self.show(node))") }
        return value
    }

    func int(_ key: String, _ fallback: Int) throws(ManifestError) -> Int {
        guard let node = node(key) else { return fallback }
        guard let value = node.int else { throw ManifestError(at(key), "expected an integer, got \(Self.show(node))") }
        return value
    }

    func stringList(_ key: String, _ fallback: [String]) throws(ManifestError) -> [String] {
        guard let node = node(key) else { return fallback }
        guard case .sequence(let sequence) = node else { throw ManifestError(at(key), "expected a list, got \(Self.show(node))") }
        var values: [String] = []
        for (index, element) in sequence.enumerated() {
            guard case .scalar(let scalar) = element else { throw ManifestError(at(key) + "[\(index)]", "expected a string") }
            values.append(scalar.string)
        }
        return values
    }

    func stringMap(_ key: String) throws(ManifestError) -> [(String, String)] {
        guard let node = node(key) else { return [] }
        guard case .mapping(let mapping) = node else { throw ManifestError(at(key), "expected a mapping, got \(Self.show(node))") }
        var values: [(String, String)] = []
        for (name, value) in ValuesTree.pairs(mapping) {
            guard case .scalar(let scalar) = value else { throw ManifestError(at(key) + "." + name, "expected a string") }
            values.append((name, scalar.string))
        }
        return values
    }

    /// A Kubernetes sub-object passed through as written (resources, tolerations, affinity, …), checked
    /// only for its outer kind.
    func object(_ key: String, mapping: Bool) throws(ManifestError) -> Node? {
        guard let node = node(key) else { return nil }
        switch (node, mapping) {
        case (.mapping, true), (.sequence, false): return node
        default: throw ManifestError(at(key), "expected a \(mapping ? "mapping" : "list"), got \(Self.show(node))")
        }
    }

    func section(_ key: String) throws(ManifestError) -> ValuesReader {
        let child: ValuesReader
        switch node(key) {
        case nil: child = ValuesReader([], path: at(key))
        case .mapping(let mapping)?: child = ValuesReader(ValuesTree.pairs(mapping), path: at(key))
        case let other?: throw ManifestError(at(key), "expected a mapping, got \(Self.show(other))")
        }
        children.append(child)
        return child
    }

    /// Keys nobody read are unknown: an error naming the first of them.
    func finish() throws(ManifestError) {
        if let unknown = pairs.first(where: { !consumed.contains($0.0) }) {
            throw ManifestError(at(unknown.0), "unknown key")
        }
        for child in children { try child.finish() }
    }

    private static func show(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): "\"\(scalar.string)\""
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }
}
