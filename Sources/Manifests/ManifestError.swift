/// A values document that cannot be turned into manifests: names the key path and what is wrong.
public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let problem: String

    init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { path.isEmpty ? problem : "\(path): \(problem)" }
}
