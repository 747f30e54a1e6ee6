import ArgumentParser
import Foundation
import Logging
import NodeAgent

extension InstallCNI {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the node agent (the DaemonSet container's command).",
            discussion: "Every option can also be set by the Istio environment variable of the same name in upper case (MOUNTED_CNI_NET_DIR for --mounted-cni-net-dir); options win.")

        @OptionGroup var options: AgentOptions

        func run() async throws {
            let configuration = try options.resolve(environment: ProcessInfo.processInfo.environment, forRun: true)
            let logger = AgentLogging.bootstrap(level: configuration.logLevel)
            logger.info("install-cni starting: \(configuration.chained ? "chained into the primary config in" : "standalone config in") \(configuration.mountedCNINetDir), plugin into \(configuration.cniBinDirs.joined(separator: ", "))")
            try await AgentRuntime.run(configuration: configuration, logger: logger)
        }
    }

    struct Uninstall: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove the plugin from this node: our config entry first, then the kubeconfig and the binaries.")

        @OptionGroup var options: AgentOptions

        func run() async throws {
            let configuration = try options.resolve(environment: ProcessInfo.processInfo.environment)
            let logger = AgentLogging.bootstrap(level: configuration.logLevel)
            let removed = Installer(configuration: configuration).uninstall().removed
            if removed.isEmpty { logger.info("nothing of istio-cni was installed") }
            for path in removed { logger.info("removed \(path)") }
        }
    }
}

enum AgentLogging {
    static func bootstrap(level: String) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: level == "none" ? "critical" : level) ?? .info
            return handler
        }
        return Logger(label: "istio-cni")
    }
}
