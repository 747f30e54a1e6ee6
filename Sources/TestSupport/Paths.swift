import Foundation

/// Where the package and its built executables are.
public enum Paths {
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The debug products `swift test` builds alongside the tests.
    public static func built(_ product: String) -> String {
        packageRoot.appendingPathComponent(".build/debug/\(product)").path
    }

    /// The plugin under test: the installable release build when the test script made one
    /// (`ISTIO_CNI_PLUGIN`), else the debug build.
    public static var plugin: String {
        ProcessInfo.processInfo.environment["ISTIO_CNI_PLUGIN"] ?? built("istio-cni")
    }

    public static var netprobe: String { built("netprobe") }

    /// A fresh temporary directory, removed by the caller.
    public static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("icni-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
