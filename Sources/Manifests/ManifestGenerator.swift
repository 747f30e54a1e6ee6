import Yams

/// `install-cni manifest generate`: values files and `--set`s in, multi-document YAML out.
public enum ManifestGenerator {
    /// `files` are (name, YAML text) in the order given; `assignments` are `key=value` applied after them.
    public static func values(files: [(String, String)], assignments: [String]) throws(ManifestError) -> CNIValues {
        var tree = ValuesTree()
        for (name, text) in files { try tree.merge(yaml: text, source: name) }
        for assignment in assignments { try tree.set(assignment) }
        return try CNIValues(tree)
    }

    public static func render(_ values: CNIValues) throws -> String {
        let objects = CNIManifests.objects(values)
        guard !objects.isEmpty else { return "" }
        return try Yams.serialize(nodes: objects, indent: 2, width: -1, explicitStart: true)
    }

    public static func generate(files: [(String, String)], assignments: [String]) throws -> String {
        try render(try values(files: files, assignments: assignments))
    }
}
