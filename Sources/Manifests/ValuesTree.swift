import Yams

/// The chart values after reading every `-f` document and `--set`: one mapping in the chart's own
/// shape (its keys at the top, plus `global`, `profile` and `namespace`). An IstioOperator is
/// unwrapped: `spec.values.cni` and `spec.values.global` are the values, `spec.components.cni` gives
/// `enabled`, `namespace` and `k8s` (kept under `operatorComponent`), `spec.profile` the profile and
/// `spec.hub`/`spec.tag` become `global.hub`/`global.tag`.
struct ValuesTree {
    private(set) var root: [(String, Node)] = []

    /// Merges one YAML document in (later documents win key by key; lists are replaced, as Helm does).
    mutating func merge(yaml text: String, source: String) throws(ManifestError) {
        let documents: [Node]
        do {
            documents = try Array(Yams.compose_all(yaml: text))
        } catch {
            throw ManifestError(source, "is not YAML: \(error)")
        }
        for document in documents {
            guard case .mapping(let mapping) = document else { throw ManifestError(source, "a values document must be a mapping") }
            try merge(normalized(mapping, source: source))
        }
    }

    /// `--set a.b.c=value`; the value is read as a YAML scalar (true, 5, text) or `{x,y}` for a list.
    mutating func set(_ assignment: String) throws(ManifestError) {
        guard let equals = assignment.firstIndex(of: "=") else { throw ManifestError("--set \(assignment)", "expected key=value") }
        var key = String(assignment[..<equals])
        let text = String(assignment[assignment.index(after: equals)...])
        for prefix in ["spec.values.", "values."] where key.hasPrefix(prefix) { key.removeFirst(prefix.count) }
        if key.hasPrefix("cni.") { key.removeFirst("cni.".count) }
        let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty }) else { throw ManifestError("--set \(assignment)", "\"\(key)\" is not a key path") }
        var value: Node
        if text.hasPrefix("{"), text.hasSuffix("}") {
            value = Node(text.dropFirst().dropLast().split(separator: ",").map { Node(String($0)) })
        } else {
            value = Node(text)
        }
        for part in parts.dropFirst().reversed() { value = Node([(Node(part), value)]) }
        try merge([(parts[0], value)])
    }

    private mutating func merge(_ pairs: [(String, Node)]) throws(ManifestError) {
        root = Self.merged(root, pairs)
    }

    static func merged(_ base: [(String, Node)], _ overlay: [(String, Node)]) -> [(String, Node)] {
        var result = base
        for (key, value) in overlay {
            if let index = result.firstIndex(where: { $0.0 == key }) {
                if case .mapping(let old) = result[index].1, case .mapping(let new) = value {
                    let mergedPairs = merged(pairs(old), pairs(new))
                    result[index].1 = Node(mergedPairs.map { (Node($0.0), $0.1) })
                } else {
                    result[index].1 = value
                }
            } else {
                result.append((key, value))
            }
        }
        return result
    }

    static func pairs(_ mapping: Node.Mapping) -> [(String, Node)] {
        mapping.map { ($0.key.string ?? "\($0.key)", $0.value) }
    }

    /// An IstioOperator or plain chart values (possibly with the legacy `cni:` nesting) in chart shape.
    private func normalized(_ mapping: Node.Mapping, source: String) throws(ManifestError) -> [(String, Node)] {
        let top = Self.pairs(mapping)
        func value(_ pairs: [(String, Node)], _ key: String) -> Node? { pairs.first { $0.0 == key }?.1 }
        if value(top, "kind")?.string == "IstioOperator" {
            guard case .mapping(let spec)? = value(top, "spec") else { return [] }
            var result: [(String, Node)] = []
            for (key, node) in Self.pairs(spec) {
                switch key {
                case "profile", "namespace", "revision":
                    result = Self.merged(result, [(key, node)])
                case "hub", "tag":
                    // istioctl applies spec.hub/tag as global.hub/tag.
                    result = Self.merged(result, [("global", Node([(Node(key), node)]))])
                case "values":
                    guard case .mapping(let values) = node else { throw ManifestError("spec.values", "must be a mapping") }
                    for (valuesKey, valuesNode) in Self.pairs(values) {
                        if valuesKey == "cni", case .mapping(let cni) = valuesNode {
                            result = Self.merged(result, Self.pairs(cni))
                        } else if valuesKey == "global" {
                            result = Self.merged(result, [("global", valuesNode)])
                        }
                        // Other charts' values (pilot, gateways, …) are not ours to read.
                    }
                case "components":
                    guard case .mapping(let components) = node else { throw ManifestError("spec.components", "must be a mapping") }
                    if let cni = value(Self.pairs(components), "cni") {
                        result = Self.merged(result, [("operatorComponent", cni)])
                    }
                case "meshConfig", "installPackagePath":
                    continue
                default:
                    throw ManifestError("spec.\(key)", "unknown IstioOperator field")
                }
            }
            return result
        }
        var result = top.filter { $0.0 != "cni" }
        if case .mapping(let legacy)? = value(top, "cni") { result = Self.merged(result, Self.pairs(legacy)) }
        return result
    }
}
