import ArgumentParser
import Glibc
import NodeAgent

extension InstallCNI {
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that this pod's traffic redirection is in place (the istio-validation init container).",
            discussion: """
            Listens on 127.0.0.1:15001 and :15006 (and [::1] for IPv6 pods), connects every second to 127.0.0.6:15002 \
            ([::6]:15002) and succeeds when the connection arrives redirected with its original port intact. Exits 126 \
            after the timeout when it does not (the repair loop acts on that code), 1 when the check cannot run. \
            Run it as the proxy user with no capabilities; started as root it becomes --proxy-uid/--proxy-gid first.
            """)

        @Option(name: .customLong("proxy-uid"), help: "The proxy's UID (the rules let its traffic on lo reach the inbound port).")
        var proxyUID: UInt32 = 1337
        @Option(name: .customLong("proxy-gid"))
        var proxyGID: UInt32 = 1337
        @Option(name: .customLong("timeout"), help: "Seconds to keep trying.")
        var timeout: Int = 5
        @Option(name: .customLong("ipv6"), help: "auto (as Istio decides: the pod is IPv6-only, or ISTIO_DUAL_STACK is true and it has an IPv6 address), true or false.")
        var ipv6: String = "auto"
        @Option(name: .customLong("termination-message-path"))
        var terminationMessagePath: String = "/dev/termination-log"

        func validate() throws {
            guard (1...300).contains(timeout) else { throw ValidationError("--timeout \(timeout) is not between 1 and 300 seconds") }
            guard terminationMessagePath.hasPrefix("/") else { throw ValidationError("--termination-message-path \"\(terminationMessagePath)\" is not an absolute path") }
            guard ["auto", "true", "false"].contains(ipv6) else { throw ValidationError("--ipv6 \"\(ipv6)\" is not auto, true or false") }
        }

        func run() throws {
            var options = ValidationProbe.Options()
            options.proxyUID = proxyUID
            options.proxyGID = proxyGID
            options.timeoutSeconds = timeout
            options.ipv6 = ipv6 == "auto" ? nil : ipv6 == "true"
            options.terminationMessagePath = terminationMessagePath
            let outcome = ValidationProbe(options: options).run()
            switch outcome {
            case .passed(let message): print(message)
            case .notRedirected(let message), .unusable(let message): FileDescriptorOutput.standardError(message)
            }
            throw ExitCode(outcome.exitCode)
        }
    }
}

enum FileDescriptorOutput {
    static func standardError(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        _ = write(2, bytes, bytes.count)
    }
}
