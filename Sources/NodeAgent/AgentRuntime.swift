import Logging
import NIOCore
import PluginCore
import ServiceLifecycle

/// `install-cni run`: installs and keeps the node installed, serves health, readiness, metrics and
/// the plugin's socket, caches this node's pods, and at SIGTERM decides whether to leave the node
/// installed (see `ShutdownPolicy`).
public enum AgentRuntime {
    public static func run(configuration: AgentConfiguration, logger: Logger) async throws {
        let metrics = AgentMetrics()
        let status = AgentStatus(metrics: metrics)
        let installer = Installer(configuration: configuration)
        try FileSystem.makeDirectory(configuration.runDirectory, mode: 0o700)

        var api: KubeAPI?
        do { api = try KubeAPI(configuration: configuration) } catch {
            logger.warning("no API access (\(error)): the pod cache is off and the plugin asks the API itself")
        }
        let cache = PodCache()
        var channels: [Channel] = []
        if configuration.readinessPort > 0 {
            channels.append(try await AgentHTTPServer.listen(host: "0.0.0.0", port: configuration.readinessPort, route: AgentRoutes.health(status: status)))
        }
        if configuration.monitoringPort > 0 {
            channels.append(try await AgentHTTPServer.listen(host: "0.0.0.0", port: configuration.monitoringPort, route: AgentRoutes.metrics(metrics)))
        }
        let socketPath = AgentSocket.path(runDirectory: configuration.runDirectory)
        let pluginSocket = try PluginSocketServer(path: socketPath, route: AgentRoutes.pluginSocket(
            cache: cache, relay: PluginReportRelay(logger: logger, metrics: metrics)))
        logger.info("serving the plugin on \(socketPath); readiness on :\(configuration.readinessPort), metrics on :\(configuration.monitoringPort)")

        var services: [any Service] = [InstallController(installer: installer, status: status, logger: logger)]
        if let api, let node = configuration.watchedNodeName {
            var sinks: [any PodEventSink] = [cache]
            if configuration.repair.enabled, let repairNode = configuration.repair.nodeName {
                let repair = RepairController(configuration: configuration.repair, nodeName: repairNode, api: api,
                                              inPlace: InPlaceRepair(configuration: configuration), runDirectory: configuration.runDirectory,
                                              metrics: metrics, status: status, logger: logger)
                sinks.append(repair)
                services.append(repair)
            }
            services.append(PodWatcher(api: api, sinks: sinks, nodeName: node, status: status, logger: logger))
        } else {
            status.setPodCache("off (\(api == nil ? "no API access" : "NODE_NAME is not set"))")
            if configuration.repair.enabled { status.setRepair("off (\(api == nil ? "no API access" : "REPAIR_NODE_NAME is not set"))") }
        }
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()

        let decision = await ShutdownPolicy(api: api, podNamespace: configuration.podNamespace, podName: configuration.podName).decide()
        switch decision {
        case .keep(let reason):
            logger.info("shutting down; leaving the plugin and its config installed: \(reason)")
        case .uninstall(let reason):
            logger.info("shutting down and uninstalling: \(reason)")
            for path in installer.uninstall().removed { logger.info("removed \(path)") }
        }
        for channel in channels { try? await channel.close() }
        pluginSocket.stop()
        try? FileSystem.remove(socketPath)
        if let api {
            // TLS waits up to 5 s for the server's close_notify on the cut watch connection; the
            // process is about to exit, so give the client one second to close cleanly.
            let closed = ChangeSignal()
            Task {
                await api.shutdown()
                closed.notify()
            }
            _ = await closed.wait(seconds: 1)
        }
    }
}
