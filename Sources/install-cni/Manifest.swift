import ArgumentParser

extension InstallCNI {
    struct Manifest: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Kubernetes manifests for the istio-cni DaemonSet.", subcommands: [])
    }
}
