import Foundation
import JSON
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
        #expect(dynamic.contains("(RPATH)") && dynamic.contains("$ORIGIN/istio-cni-libs") && !dynamic.contains("RUNPATH"),
                "a DT_RPATH, searched before LD_LIBRARY_PATH: \(dynamic)")
    }

    /// The real file behind a library the loader cache knows (to hide it from a private mount namespace).
    func systemLibrary(_ soname: String) throws -> String {
        let listed = try #require(try Command.output("ldconfig", "-p").split(separator: "\n")
            .first { $0.contains("\(soname) ") }?.split(separator: " ").last.map(String.init))
        return try Command.output("readlink", "-f", listed).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func runsOnANodeWithoutLibmnl() throws {
        let plugin = try requireDist()
        // Hide the system's libmnl in a private mount namespace: the plugin must still load.
        let script = "mount --bind /dev/null \(try systemLibrary("libmnl.so.0")) && CNI_COMMAND=VERSION \(plugin) </dev/null"
        let result = try Command.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script])
        #expect(result.succeeded, "\(result.stderr)")
        #expect(result.stdout.contains("\"supportedVersions\""))
    }

    /// An ADD that asks the API itself, on a node without wolfSSL: the plugin loads the copy beside it;
    /// without that copy it fails naming the library, and the cache path never needs it.
    @Test func looksPodsUpOverTLSOnANodeWithoutWolfSSL() throws {
        let plugin = try requireDist()
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let namespace = try TestNamespace("wolf")
        let bare = try Paths.temporaryDirectory("bare-plugin")
        defer { try? FileManager.default.removeItem(at: bare) }
        try FileManager.default.createDirectory(at: bare.appendingPathComponent("istio-cni-libs"), withIntermediateDirectories: true)
        // cp, not a copy from this process: a child another test forks meanwhile would inherit the write
        // descriptor, and exec of the copy would fail with ETXTBSY ("Text file busy") while it lives.
        try Command.run(["cp", plugin, bare.appendingPathComponent("istio-cni").path], check: true)
        try FileManager.default.copyItem(at: Self.dist.appendingPathComponent("istio-cni-libs/libmnl.so.0"),
                                         to: bare.appendingPathComponent("istio-cni-libs/libmnl.so.0"))
        let hidden = try systemLibrary("libwolfssl.so.35")
        func add(_ binary: String, container: String) throws -> CommandResult {
            let environment = ["CNI_COMMAND=ADD", "CNI_CONTAINERID=\(container)", "CNI_IFNAME=eth0", "CNI_PATH=/usr/lib/cni",
                               "CNI_NETNS=\(namespace.path)", "CNI_ARGS='IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web'",
                               "PATH=/usr/sbin:/usr/bin:/sbin:/bin"].joined(separator: " ")
            let script = "mount --bind /dev/null \(hidden) && env -i \(environment) \(binary)"
            return try Command.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], stdin: harness.config(), check: false)
        }
        let shipped = try add(plugin, container: "wolf1")
        #expect(shipped.succeeded && shipped.stderr.contains("pod from the API server"), "\(shipped.stdout) \(shipped.stderr)")
        let missing = try add(bare.appendingPathComponent("istio-cni").path, container: "wolf2")
        #expect(!missing.succeeded)
        #expect(missing.stdout.contains("the TLS library libwolfssl.so.35 cannot be loaded"),
                "status \(missing.status): \(missing.stdout) \(missing.stderr)")
        #expect(missing.stdout.contains("after 1 attempts") && (try? JSONParser.parse(missing.stdout))?["code"]?.int64Value == 11,
                "not retried: it cannot heal within one ADD")
    }

    /// containerd runs plugins with `LD_LIBRARY_PATH=/opt/containerd/lib:`; libraries of the same names
    /// there (or in the working directory, the empty entry) must not be loaded instead of ours.
    @Test func loadsItsOwnLibrariesWhateverTheRuntimesLibraryPath() throws {
        let plugin = try requireDist()
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let namespace = try TestNamespace("ldpath")
        let decoys = try Paths.temporaryDirectory("decoy-libs")
        defer { try? FileManager.default.removeItem(at: decoys) }
        for name in ["libmnl.so.0", "libwolfssl.so.35"] {
            try Data("not a library".utf8).write(to: decoys.appendingPathComponent(name))
        }
        let environment = ["CNI_COMMAND=ADD", "CNI_CONTAINERID=ldpath", "CNI_IFNAME=eth0", "CNI_PATH=/usr/lib/cni",
                           "CNI_NETNS=\(namespace.path)", "CNI_ARGS='IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web'",
                           "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LD_LIBRARY_PATH=\(decoys.path):"].joined(separator: " ")
        let result = try Command.run(["sh", "-c", "cd \(decoys.path) && env -i \(environment) \(plugin)"], stdin: harness.config())
        #expect(result.succeeded && result.stderr.contains("pod from the API server"), "status \(result.status): \(result.stdout) \(result.stderr)")
        #expect(try namespace.nftListing().contains("table inet istio-proxy-nat"))
    }
}
