import ArgumentParser

/// install-cni: the istio-cni node agent (`run`, the default) and its tools.
@main
struct InstallCNI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-cni",
        abstract: "The istio-cni node agent: installs the istio-cni CNI plugin on this node and keeps it installed.",
        subcommands: [Run.self, Uninstall.self, Manifest.self],
        defaultSubcommand: Run.self
    )
}
