// swift-tools-version:6.0
import PackageDescription

// The plugin (`istio-cni`) runs once per pod on every node, so everything it links is kept small:
// no Foundation, no NIO, no Yams. libnftnl is linked from its static archive; libmnl (Debian ships no
// archive) and wolfSSL (loaded only when the plugin asks the API itself) are carried beside the
// installed binary and found through an $ORIGIN rpath.
let staticArchive: (String) -> LinkerSetting = { name in .unsafeFlags(["-Xlinker", "-l:\(name)"]) }

let package = Package(
    name: "istio-cni-swift",
    products: [
        .executable(name: "istio-cni", targets: ["istio-cni"]),
        .executable(name: "kube-emulator", targets: ["kube-emulator"]),
        .executable(name: "netprobe", targets: ["netprobe"]),
        .executable(name: "install-cni", targets: ["install-cni"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.24.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
    ],
    targets: [
        // MARK: C libraries and shims
        .systemLibrary(name: "CLibnftnl", providers: [.apt(["libnftnl-dev"])]),
        .systemLibrary(name: "CLibmnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),
        .target(name: "CNetnsShim", cSettings: [.define("_GNU_SOURCE")]),
        .target(name: "CSocketShim", cSettings: [.define("_GNU_SOURCE")]),
        // wolfSSL is loaded with dlopen on the first API lookup (see tls_client.c); only its headers are used here.
        .target(name: "CTLSClient", cSettings: [.define("_GNU_SOURCE")]),

        // MARK: Plugin libraries (no Foundation)
        .target(name: "JSON"),
        .target(name: "CNI", dependencies: ["JSON"]),
        .target(name: "Interception", dependencies: ["CNI"]),
        .target(
            name: "NFTables",
            dependencies: ["Interception", "CLibnftnl", "CLibmnl", "CNetnsShim"],
            linkerSettings: [staticArchive("libnftnl.a")]
        ),
        .target(name: "IPTables", dependencies: ["Interception", "CNI"]),
        .target(name: "Kubernetes", dependencies: ["JSON", "CTLSClient", "CUnixSocketShim"]),
        .target(
            name: "PluginCore",
            dependencies: ["CNI", "Interception", "NFTables", "IPTables", "Kubernetes", "JSON"]
        ),
        .target(name: "CHeapTuning"),
        .executableTarget(
            name: "istio-cni",
            dependencies: ["PluginCore", "CHeapTuning"],
            linkerSettings: [.unsafeFlags([
                // DT_RPATH, not DT_RUNPATH: the loader searches a runpath only after LD_LIBRARY_PATH, and
                // containerd runs plugins with `LD_LIBRARY_PATH=/opt/containerd/lib:`, whose directories
                // (the empty entry included) may hold another libmnl.so.0.
                "-Xlinker", "-rpath", "-Xlinker", "$ORIGIN/istio-cni-libs", "-Xlinker", "--disable-new-dtags",
                // Start-up cost is paid per pod (measured in docs/benchmarks.md): link libstdc++ and
                // libgcc statically (scripts/link-plugin), as a fixed-address executable that exports
                // no symbols, so the loader maps and relocates as little as possible.
                "-Xclang-linker", "-fuse-ld=\(Context.packageDirectory)/scripts/link-plugin",
                "-Xclang-linker", "-no-pie", "-Xlinker", "--no-export-dynamic",
            ])]
        ),

        // MARK: The node agent (a long-running DaemonSet process: start-up cost does not matter here)
        .target(name: "CUnixSocketShim", cSettings: [.define("_GNU_SOURCE")]),
        .target(
            name: "NodeAgent",
            dependencies: [
                "PluginCore", "Interception", "Kubernetes", "NFTables", "IPTables", "JSON", "CUnixSocketShim", "CSocketShim",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(name: "Manifests", dependencies: [.product(name: "Yams", package: "Yams")]),
        .executableTarget(
            name: "install-cni",
            dependencies: [
                "NodeAgent", "Manifests",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Test and demo tooling (never installed on a node)
        .target(
            name: "KubeEmulator",
            dependencies: [
                "JSON",
                "Kubernetes",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .executableTarget(name: "kube-emulator", dependencies: ["KubeEmulator", "JSON"]),
        .executableTarget(name: "netprobe", dependencies: ["CSocketShim"]),
        .executableTarget(name: "repair-benchmark", dependencies: ["KubeEmulator", "JSON", "TestSupport"]),
        .target(name: "CSpawnShim", cSettings: [.define("_GNU_SOURCE")]),
        // Parser fuzz targets: libFuzzer entry with -DFUZZING (scripts/fuzz.sh), corpus replay otherwise.
        .executableTarget(
            name: "fuzz-parsers",
            dependencies: ["CNI", "Interception", "IPTables", "JSON", "Kubernetes", "Manifests", "PluginCore", "CFuzzDriver",
                           .product(name: "Yams", package: "Yams")]
        ),
        .target(name: "CFuzzDriver"),
        .target(name: "TestSupport", dependencies: ["JSON", "CNI", "Interception", "KubeEmulator", "CSpawnShim", "CSocketShim"]),

        // MARK: Tests
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "CNITests", dependencies: ["CNI", "JSON"]),
        .testTarget(name: "InterceptionTests", dependencies: ["Interception", "CNI"]),
        .testTarget(name: "NFTablesTests", dependencies: ["NFTables", "Interception", "CNI", "TestSupport"]),
        .testTarget(name: "IPTablesTests", dependencies: ["IPTables", "Interception", "CNI", "TestSupport"]),
        .testTarget(name: "KubernetesTests", dependencies: ["Kubernetes", "JSON", "KubeEmulator", "TestSupport"]),
        .testTarget(name: "PluginCoreTests", dependencies: ["PluginCore", "CNI", "Interception", "JSON", "Kubernetes"]),
        .testTarget(name: "KubeEmulatorTests", dependencies: ["KubeEmulator", "JSON", "TestSupport"]),
        .testTarget(name: "IntegrationTests", dependencies: ["TestSupport", "JSON", "KubeEmulator"]),
        .testTarget(name: "NodeAgentTests", dependencies: ["NodeAgent", "JSON", "KubeEmulator", "TestSupport", "PluginCore"]),
        .testTarget(name: "ManifestsTests", dependencies: ["Manifests"]),
    ]
)
