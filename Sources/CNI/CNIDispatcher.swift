import JSON

/// What the process prints on stdout and the exit code it returns.
public struct CNIOutput: Sendable, Equatable {
    public let stdout: String
    public let exitCode: Int32
    /// The error's message and details when the invocation failed, for logs.
    public var errorMessage: String? = nil
}

/// Turns one invocation (environment + stdin) into exactly one stdout document and an exit code,
/// applying the spec's version rules around the plugin's handlers.
public enum CNIDispatcher {
    public static func run(environment: [String: String], readStdin: () throws(CNIError) -> [UInt8],
                           plugin: some PassThroughCNIPlugin) -> CNIOutput {
        var versionForErrors = CNIVersion.latest.rawValue
        do throws(CNIError) {
            let env = try CNIEnvironment.parse(environment)
            let stdin = try readStdin()
            if let requested = NetworkConfig.requestedVersion(stdin) { versionForErrors = requested.rawValue }
            switch env.command {
            case .version:
                return CNIOutput(stdout: versionReply(requested: NetworkConfig.requestedVersion(stdin)), exitCode: 0)
            case .add:
                let config = try NetworkConfig.parse(stdin)
                let output = try CNIResultEncoder.encode(config.prevResult ?? .empty, version: config.cniVersion)
                try plugin.add(CNIRequest(environment: env, config: config))
                return CNIOutput(stdout: JSONSerializer.serialize(output) + "\n", exitCode: 0)
            case .delete:
                let config: NetworkConfig?
                let problem: CNIError?
                do throws(CNIError) {
                    config = try NetworkConfig.parse(stdin)
                    problem = nil
                } catch {
                    config = nil
                    problem = error
                }
                try plugin.delete(environment: env, config: config, configProblem: problem)
                return CNIOutput(stdout: "", exitCode: 0)
            case .check:
                let config = try NetworkConfig.parse(stdin)
                guard config.cniVersion.allowsCheck else {
                    throw CNIError(.incompatibleVersion, "config version \(config.cniVersion.rawValue) does not allow CHECK",
                                   details: "CHECK exists from cniVersion 0.4.0")
                }
                try plugin.check(CNIRequest(environment: env, config: config))
                return CNIOutput(stdout: "", exitCode: 0)
            case .status:
                let config = try NetworkConfig.parse(stdin)
                guard config.cniVersion.allowsStatusAndGC else {
                    throw CNIError(.incompatibleVersion, "config version \(config.cniVersion.rawValue) does not allow STATUS",
                                   details: "STATUS exists from cniVersion 1.1.0")
                }
                try plugin.status(config: config)
                return CNIOutput(stdout: "", exitCode: 0)
            case .garbageCollect:
                let config = try NetworkConfig.parse(stdin)
                guard config.cniVersion.allowsStatusAndGC else {
                    throw CNIError(.incompatibleVersion, "config version \(config.cniVersion.rawValue) does not allow GC",
                                   details: "GC exists from cniVersion 1.1.0")
                }
                try plugin.garbageCollect(config: config, validAttachments: try validAttachments(config))
                return CNIOutput(stdout: "", exitCode: 0)
            }
        } catch {
            return CNIOutput(stdout: error.json(cniVersion: versionForErrors) + "\n", exitCode: 1, errorMessage: error.description)
        }
    }

    static func versionReply(requested: CNIVersion?) -> String {
        JSONSerializer.serialize(.object(JSONObject([
            ("cniVersion", .string((requested ?? .latest).rawValue)),
            ("supportedVersions", .array(CNIVersion.allCases.map { .string($0.rawValue) })),
        ]))) + "\n"
    }

    /// GC input: the spec tag used `cni.dev/attachments`, later text `cni.dev/valid-attachments`;
    /// libcni sends both, so accept either (their union).
    static func validAttachments(_ config: NetworkConfig) throws(CNIError) -> [CNIAttachment] {
        var attachments: [CNIAttachment] = []
        for key in ["cni.dev/valid-attachments", "cni.dev/attachments"] {
            guard let value = config.raw[key], !value.isNull else { continue }
            guard let entries = value.arrayValue else {
                throw CNIError(.invalidNetworkConfig, "\"\(key)\" must be an array, got \(value.typeName)")
            }
            for (index, entry) in entries.enumerated() {
                guard let containerID = entry["containerID"]?.stringValue, let ifName = entry["ifname"]?.stringValue else {
                    throw CNIError(.invalidNetworkConfig, "\"\(key)\"[\(index)] must have string \"containerID\" and \"ifname\"")
                }
                let attachment = CNIAttachment(containerID: containerID, ifName: ifName)
                if !attachments.contains(attachment) { attachments.append(attachment) }
            }
        }
        return attachments
    }
}
