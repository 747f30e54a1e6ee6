import Foundation
import Testing
import TestSupport

/// The artifact scripts/build-dist.sh makes is what a node gets: it must need nothing but glibc.
@Suite struct InstallableBinaryTests {
    static let dist = Paths.packageRoot.appendingPathComponent("dist")
    static let glibcFamily = ["linux-vdso.so.1", "libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2"]

    func requireDist() throws -> String {
        let plugin = Self.dist.appendingPathComponent("istio-cni").path
        try #require(FileManager.default.isExecutableFile(atPath: plugin),
                     "dist/istio-cni is missing: run scripts/build-dist.sh (scripts/test.sh does) before these tests")
        return plugin
    }

    @Test func linksOnlyGlibcAndCarriesLibmnlBesideIt() throws {
        let plugin = try requireDist()
        let ldd = try Command.output("ldd", plugin)
        for line in ldd.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let name = fields.first else { continue }
            let basename = name.split(separator: "/").last.map(String.init) ?? name
            if Self.glibcFamily.contains(basename) { continue }
            // Anything else must be resolved from the plugin's own directory ($ORIGIN rpath).
            #expect(fields.count >= 3 && fields[2].hasPrefix(Self.dist.appendingPathComponent("istio-cni-libs").path + "/"),
                    "\(line.trimmingCharacters(in: .whitespaces)) is neither glibc nor carried beside the plugin")
        }
        #expect(!ldd.contains("libnftnl"), "libnftnl is linked statically")
        #expect(!ldd.contains("libwolfssl"), "wolfSSL is linked statically")
        #expect(!ldd.contains("libswift"), "the Swift runtime is linked statically")
        let dynamic = try Command.output("readelf", "-d", plugin)
        #expect(dynamic.contains("$ORIGIN/istio-cni-libs"))
    }

    @Test func runsOnANodeWithoutLibmnl() throws {
        let plugin = try requireDist()
        // Hide the system's libmnl in a private mount namespace: the plugin must still load.
        let system = try #require(try Command.output("ldconfig", "-p").split(separator: "\n")
            .first { $0.contains("libmnl.so.0 ") }?.split(separator: " ").last.map(String.init))
        let real = try Command.output("readlink", "-f", system).trimmingCharacters(in: .whitespacesAndNewlines)
        let script = "mount --bind /dev/null \(real) && CNI_COMMAND=VERSION \(plugin) </dev/null"
        let result = try Command.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script])
        #expect(result.succeeded, "\(result.stderr)")
        #expect(result.stdout.contains("\"supportedVersions\""))
    }
}
