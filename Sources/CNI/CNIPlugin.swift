/// One ADD/DEL/CHECK invocation: the validated environment and network configuration.
public struct CNIRequest: Sendable {
    public let environment: CNIEnvironment
    public let config: NetworkConfig

    public init(environment: CNIEnvironment, config: NetworkConfig) {
        self.environment = environment
        self.config = config
    }
}

/// A container attachment the runtime still considers valid (GC input).
public struct CNIAttachment: Equatable, Sendable {
    public let containerID: String
    public let ifName: String
}

/// A chained plugin that never changes the result it is given: ADD outputs `prevResult` (re-encoded in
/// the request's version) or an empty result. The dispatcher encodes that output *before* calling
/// `add`, so a version that cannot express it fails before anything is programmed.
public protocol PassThroughCNIPlugin {
    func add(_ request: CNIRequest) throws(CNIError)
    /// DEL must succeed whenever it can, so it also runs when the configuration on stdin is unusable;
    /// `config` is then nil and `configProblem` says why.
    func delete(environment: CNIEnvironment, config: NetworkConfig?, configProblem: CNIError?) throws(CNIError)
    func check(_ request: CNIRequest) throws(CNIError)
    func status(config: NetworkConfig) throws(CNIError)
    func garbageCollect(config: NetworkConfig, validAttachments: [CNIAttachment]) throws(CNIError)
}
