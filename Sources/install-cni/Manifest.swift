import ArgumentParser
import Foundation
import Manifests

extension InstallCNI {
    struct Manifest: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Kubernetes manifests for the istio-cni DaemonSet.", subcommands: [Generate.self])
    }
}

extension InstallCNI.Manifest {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the ServiceAccount, RBAC, ConfigMap, DaemonSet (and for Multus the NetworkAttachmentDefinition).",
            discussion: """
            Values are Istio's: an IstioOperator (spec.values.cni, spec.components.cni, spec.profile) or plain \
            istio-cni chart values. --set takes chart keys (chained=false, repair.deletePods=true, global.hub=…; \
            a values.cni. prefix is accepted). Unknown keys and wrong types are errors naming the key path.
            """)

        @Option(name: [.customShort("f"), .customLong("values")], help: "A values file (IstioOperator or chart values); repeatable, later files win.")
        var files: [String] = []

        @Option(name: .customLong("set"), help: "key=value, applied after the files; repeatable.")
        var assignments: [String] = []

        func run() throws {
            var documents: [(String, String)] = []
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read values file \(file)") }
                documents.append((file, String(decoding: data, as: UTF8.self)))
            }
            do {
                print(try ManifestGenerator.generate(files: documents, assignments: assignments), terminator: "")
            } catch let error as ManifestError {
                throw ValidationError(error.description)
            }
        }
    }
}
