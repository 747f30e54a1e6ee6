import Dispatch
import Foundation
import JSON
import KubeEmulator

// kube-emulator: serves the emulated Kubernetes API for the demo, the podman integration and the
// benchmark. It writes what a client needs into --state-dir (kubeconfig, ca.crt, token, port) and runs
// until SIGTERM/SIGINT.

func usage() -> Never {
    FileHandle.standardError.write(Data("""
    usage: kube-emulator --state-dir DIR [--host 127.0.0.1] [--port 0] [--key-type rsa|ecdsa] [--preload FILE] [--threads N]
                         [--tls-min-version 1.2|1.3] [--tls-max-version 1.1|1.2|1.3]
      --preload FILE          JSON array (or List) of Pods to create before serving
      --tls-min-version V     oldest TLS version accepted (kube-apiserver's --tls-min-version; default 1.2)

    """.utf8))
    exit(2)
}

var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard flag.hasPrefix("--"), let value = arguments.popFirst() else { usage() }
    options[String(flag.dropFirst(2))] = value
}
guard let stateDirectory = options["state-dir"] else { usage() }
guard let keyType = EmulatorIdentity.KeyType(rawValue: options["key-type"] ?? "rsa") else { usage() }
guard let minimumTLS = EmulatorTLSVersions.Version(rawValue: options["tls-min-version"] ?? "1.2") else { usage() }
let maximumTLS = options["tls-max-version"].map(EmulatorTLSVersions.Version.init(rawValue:))
if case .some(nil) = maximumTLS { usage() }

do {
    let emulator = try KubeEmulator(keyType: keyType, host: options["host"] ?? "127.0.0.1",
                                    port: Int(options["port"] ?? "0") ?? 0, threads: Int(options["threads"] ?? "1") ?? 1,
                                    tlsVersions: EmulatorTLSVersions(minimum: minimumTLS, maximum: maximumTLS ?? nil))
    if let preload = options["preload"] {
        let document = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: preload))))
        for pod in document.arrayValue ?? document["items"]?.arrayValue ?? [] {
            try emulator.store.create(.pods, namespace: pod["metadata"]?["namespace"]?.stringValue, pod)
        }
    }
    let directory = URL(fileURLWithPath: stateDirectory)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try emulator.kubeconfig().write(to: directory.appendingPathComponent("kubeconfig"), atomically: true, encoding: .utf8)
    try emulator.identity.caCertificatePEM.write(to: directory.appendingPathComponent("ca.crt"), atomically: true, encoding: .utf8)
    try emulator.token.write(to: directory.appendingPathComponent("token"), atomically: true, encoding: .utf8)
    try "\(emulator.port)\n".write(to: directory.appendingPathComponent("port"), atomically: true, encoding: .utf8)
    FileHandle.standardError.write(Data("kube-emulator serving \(emulator.serverURL) (state in \(stateDirectory))\n".utf8))

    var sources: [DispatchSourceSignal] = []
    for signalNumber in [SIGTERM, SIGINT] {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
        source.setEventHandler {
            emulator.stop()
            exit(0)
        }
        source.resume()
        sources.append(source)
    }
    withExtendedLifetime(sources) { dispatchMain() }
} catch {
    FileHandle.standardError.write(Data("kube-emulator: \(error)\n".utf8))
    exit(1)
}
