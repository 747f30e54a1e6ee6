import ArgumentParser

/// install-cni: the istio-cni node agent (`run`, the default) and its tools.
@main
struct InstallCNI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-cni",
        abstract: "The istio-cni node agent: installs the istio-cni CNI plugin on this node and keeps it installed.",
        subcommands: [Run.self, Uninstall.self, Validate.self, Manifest.self],
        defaultSubcommand: Run.self
    )

    /// As ArgumentParser's, except that `validate` reports its own usage errors with exit code 1:
    /// the repair loop reads an init container's exit code, and only 126 may mean "not redirected".
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            if CommandLine.arguments.dropFirst().first == "validate", exitCode(for: error) != .success, !(error is ExitCode) {
                FileDescriptorOutput.standardError("install-cni validate: \(fullMessage(for: error))")
                exit(withError: ExitCode(1))
            }
            exit(withError: error)
        }
    }
}
