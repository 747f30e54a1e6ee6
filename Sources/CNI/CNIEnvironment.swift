/// The `CNI_*` environment of one invocation, validated the way libcni's skel validates it.
public struct CNIEnvironment: Sendable {
    public let command: CNICommand
    public let containerID: String?
    /// Path to the container's network namespace; optional on DEL.
    public let netns: String?
    public let ifName: String?
    public let args: CNIArgs
    public let path: [String]

    public static func parse(_ environment: [String: String],
                             knownArgs: Set<String> = CNIArgs.kubernetesKeys) throws(CNIError) -> CNIEnvironment {
        guard let commandText = environment["CNI_COMMAND"], !commandText.isEmpty else {
            throw CNIError(.invalidEnvironment, "CNI_COMMAND is not set",
                           details: "expected one of \(CNICommand.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let command = CNICommand(rawValue: commandText) else {
            throw CNIError(.invalidEnvironment, "CNI_COMMAND \"\(commandText)\" is not one of \(CNICommand.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        func value(_ name: String) -> String? {
            guard let v = environment[name], !v.isEmpty else { return nil }
            return v
        }
        let missing = command.requiredVariables.filter { value($0) == nil }
        if !missing.isEmpty {
            throw CNIError(.invalidEnvironment, "required environment variables missing for \(command.rawValue): \(missing.joined(separator: ", "))")
        }
        let containerID = value("CNI_CONTAINERID")
        if let containerID, !Self.isValidContainerID(containerID) {
            throw CNIError(.invalidEnvironment,
                           "CNI_CONTAINERID \"\(containerID)\" is invalid: it must start with a letter or digit and contain only letters, digits, '_', '.' and '-'")
        }
        let ifName = value("CNI_IFNAME")
        if let ifName, let problem = Self.interfaceNameProblem(ifName) {
            throw CNIError(.invalidEnvironment, "CNI_IFNAME \"\(ifName)\" is invalid: \(problem)")
        }
        let args: CNIArgs
        switch command {
        case .add, .delete, .check: args = try CNIArgs.parse(environment["CNI_ARGS"] ?? "", knownKeys: knownArgs)
        case .version, .status, .garbageCollect: args = CNIArgs()
        }
        let path = (environment["CNI_PATH"] ?? "").split(separator: ":").map(String.init)
        return CNIEnvironment(command: command, containerID: containerID, netns: value("CNI_NETNS"),
                              ifName: ifName, args: args, path: path)
    }

    static func isValidContainerID(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, first.isASCIIAlphanumeric else { return false }
        return id.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || $0 == "_" || $0 == "." || $0 == "-" }
    }

    static func interfaceNameProblem(_ name: String) -> String? {
        if name.utf8.count > 15 { return "longer than 15 bytes" }
        if name == "." || name == ".." { return "\".\" and \"..\" are not interface names" }
        if name.unicodeScalars.contains(where: { $0 == "/" || $0 == ":" || $0.properties.isWhitespace || $0.value < 0x20 }) {
            return "contains '/', ':', whitespace or a control character"
        }
        return nil
    }
}

extension Unicode.Scalar {
    var isASCIIAlphanumeric: Bool {
        (0x30...0x39).contains(value) || (0x41...0x5A).contains(value) || (0x61...0x7A).contains(value)
    }
}
