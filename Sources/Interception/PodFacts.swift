/// What the interception decision needs to know about a pod, independent of how it was fetched.
public struct PodFacts: Equatable, Sendable {
    public var name: String
    public var namespace: String
    public var labels: [String: String]
    public var annotations: [String: String]
    public var containers: [ContainerFacts]
    /// Init containers, which include native sidecars (`restartPolicy: Always`).
    public var initContainers: [ContainerFacts]

    public init(name: String, namespace: String, labels: [String: String] = [:], annotations: [String: String] = [:],
                containers: [ContainerFacts] = [], initContainers: [ContainerFacts] = []) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.containers = containers
        self.initContainers = initContainers
    }

    /// Istio looks at init containers and regular containers alike (native sidecars live in the former).
    public var allContainers: [ContainerFacts] { initContainers + containers }

    public var proxyContainer: ContainerFacts? {
        allContainers.first { $0.name == ContainerFacts.proxyContainerName }
    }
}

public struct ContainerFacts: Equatable, Sendable {
    public static let proxyContainerName = "istio-proxy"
    public static let legacyInitContainerName = "istio-init"

    public var name: String
    public var args: [String]
    /// Literal `env` values; variables set through `valueFrom` are absent (their value is unknowable here).
    public var environment: [String: String]
    public var runAsUser: Int64?
    public var runAsGroup: Int64?

    public init(name: String, args: [String] = [], environment: [String: String] = [:],
                runAsUser: Int64? = nil, runAsGroup: Int64? = nil) {
        self.name = name
        self.args = args
        self.environment = environment
        self.runAsUser = runAsUser
        self.runAsGroup = runAsGroup
    }
}
