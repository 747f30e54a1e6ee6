import Foundation
@testable import NodeAgent
import TestSupport

/// A node's directories in a temporary tree: CNI config dir, bin dir, the image's plugin source dir, a
/// service-account dir and the run dir, with an AgentConfiguration pointing at them.
final class NodeFixture: @unchecked Sendable {
    let root: URL
    var netDirectory: String { root.path + "/net.d" }
    var binDirectory: String { root.path + "/bin" }
    var sourceDirectory: String { root.path + "/image-bin" }
    var serviceAccountDirectory: String { root.path + "/sa" }
    var runDirectory: String { root.path + "/run" }
    var configuration: AgentConfiguration

    init(chained: Bool = true, pluginBytes: [UInt8] = Array("#!/bin/sh\necho fake istio-cni\n".utf8)) throws {
        let root = try Paths.temporaryDirectory("node")
        self.root = root
        configuration = AgentConfiguration()
        for directory in ["net.d", "bin", "image-bin/istio-cni-libs", "sa", "run"] {
            try FileManager.default.createDirectory(atPath: root.path + "/" + directory, withIntermediateDirectories: true)
        }
        try write("image-bin/istio-cni", bytes: pluginBytes, mode: 0o755)
        try write("image-bin/istio-cni-libs/libmnl.so.0", "fake library")
        try write("sa/token", "token-one\n")
        try write("sa/ca.crt", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        configuration.mountedCNINetDir = netDirectory
        configuration.cniBinDirs = [binDirectory]
        configuration.cniBinSourceDir = sourceDirectory
        configuration.serviceAccountDir = serviceAccountDirectory
        configuration.runDirectory = runDirectory
        configuration.kubernetesServiceHost = "10.96.0.1"
        configuration.kubernetesServicePort = 443
        configuration.podNamespace = "istio-system"
        configuration.excludeNamespaces = ["kube-system"]
        configuration.chained = chained
    }

    deinit {
        try? FileManager.default.removeItem(at: root)
    }

    func write(_ relativePath: String, _ text: String, mode: Int = 0o644) throws {
        try write(relativePath, bytes: Array(text.utf8), mode: mode)
    }

    /// Writes in place (not atomically), as a careless component would.
    func write(_ relativePath: String, bytes: [UInt8], mode: Int = 0o644) throws {
        let path = root.path + "/" + relativePath
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    func read(_ relativePath: String) -> String? {
        FileManager.default.contents(atPath: root.path + "/" + relativePath).map { String(decoding: $0, as: UTF8.self) }
    }

    func mode(_ relativePath: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: root.path + "/" + relativePath))?[.posixPermissions] as? Int
    }

    func inode(_ relativePath: String) -> UInt64? {
        (try? FileManager.default.attributesOfItem(atPath: root.path + "/" + relativePath))?[.systemFileNumber] as? UInt64
    }

    func names(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.path + "/" + directory)) ?? []).sorted()
    }

    static let bridgeList = """
    {
      "cniVersion": "1.0.0",
      "name": "k8s-pod-network",
      "vendorKey": {"kept": true},
      "plugins": [
        {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}]]}},
        {"type": "portmap", "capabilities": {"portMappings": true}}
      ]
    }
    """

    static let calicoConf = """
    {"cniVersion": "0.3.1", "name": "k8s-pod-network", "type": "calico", "ipam": {"type": "calico-ipam"}, "log_level": "info"}
    """
}
