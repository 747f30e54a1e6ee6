import Yams

/// The Istio chart values (`values.cni.*`, `global.*`) this generator understands, with Istio's
/// defaults, after the platform profile (`profile: openshift`) is applied.
public struct CNIValues {
    public var namespace = "istio-system"
    public var enabled = true
    public var hub = "localhost/istio-cni-swift"
    public var tag = "0.1.0"
    public var image = "install-cni"
    public var pullPolicy: String?
    public var imagePullSecrets: [String] = []
    public var logLevel = "info"
    public var cniBinDir = "/opt/cni/bin"
    public var cniConfDir = "/etc/cni/net.d"
    public var cniConfFileName: String?
    public var excludeNamespaces = ["kube-system"]
    public var chained = true
    public var provider = "default"
    public var profile: String?
    public var nativeNftables = true
    public var repair = Repair()
    public var podLabels: [(String, String)] = []
    public var podAnnotations: [(String, String)] = []
    public var daemonSetLabels: [(String, String)] = []
    public var env: [(String, String)] = []
    public var resources: Node?
    public var tolerations: Node?
    public var affinity: Node?
    public var nodeSelector: Node?
    public var seccompProfile: Node?
    public var seLinuxOptions: Node?
    public var terminationGracePeriodSeconds = 30
    public var maxUnavailable = "1"
    public var priorityClassName = "system-node-critical"

    public struct Repair: Sendable {
        public var enabled = true
        public var labelPods = false
        public var deletePods = false
        public var repairPods = true
        public var initContainerName = "istio-validation"
        public var brokenPodLabelKey = "cni.istio.io/uninitialized"
        public var brokenPodLabelValue = "true"
    }

    public var isOpenShift: Bool { profile == "openshift" }
    public var usesMultus: Bool { provider == "multus" }

    public init() {}

    /// Reads merged values strictly; unknown keys and wrong types throw, naming the key path.
    init(_ tree: ValuesTree) throws(ManifestError) {
        let top = ValuesReader(tree.root, path: "")
        profile = try top.optionalString("profile")
        _ = try top.optionalString("revision")
        if isOpenShift {
            // Istio's profile-platform-openshift: Multus runs a standalone config from its own dirs.
            cniBinDir = "/var/lib/cni/bin"
            cniConfDir = "/etc/cni/multus/net.d"
            cniConfFileName = "istio-cni.conf"
            chained = false
            provider = "multus"
        } else if let profile, !["default", "minimal", "demo", "empty", "remote", "preview", "ambient"].contains(profile) {
            throw ManifestError("profile", "unknown profile \"\(profile)\" (supported: openshift and Istio's generic profiles)")
        }
        namespace = try top.string("namespace", namespace)
        let component = try top.section("operatorComponent")
        enabled = try component.bool("enabled", enabled)
        namespace = try component.string("namespace", namespace)
        let k8s = try component.section("k8s")
        resources = try k8s.object("resources", mapping: true)
        tolerations = try k8s.object("tolerations", mapping: false)
        affinity = try k8s.object("affinity", mapping: true)
        nodeSelector = try k8s.object("nodeSelector", mapping: true)

        let global = try top.section("global")
        hub = try global.string("hub", hub)
        tag = try global.string("tag", tag)
        pullPolicy = try global.optionalString("imagePullPolicy")
        imagePullSecrets = try global.stringList("imagePullSecrets", [])
        nativeNftables = try global.bool("nativeNftables", nativeNftables)
        logLevel = try global.section("logging").string("level", logLevel)
        _ = try global.optionalString("platform")

        hub = try top.string("hub", hub)
        tag = try top.string("tag", tag)
        image = try top.string("image", image)
        pullPolicy = try top.optionalString("pullPolicy") ?? pullPolicy
        logLevel = try top.section("logging").string("level", logLevel)
        cniBinDir = try top.string("cniBinDir", cniBinDir)
        cniConfDir = try top.string("cniConfDir", cniConfDir)
        cniConfFileName = try top.optionalString("cniConfFileName") ?? cniConfFileName
        _ = try top.string("cniNetnsDir", "/var/run/netns")
        excludeNamespaces = try top.stringList("excludeNamespaces", excludeNamespaces)
        chained = try top.bool("chained", chained)
        provider = try top.string("provider", provider)
        guard ["default", "multus"].contains(provider) else { throw ManifestError("provider", "must be default or multus, got \"\(provider)\"") }
        let repairValues = try top.section("repair")
        repair.enabled = try repairValues.bool("enabled", repair.enabled)
        repair.labelPods = try repairValues.bool("labelPods", repair.labelPods)
        repair.deletePods = try repairValues.bool("deletePods", repair.deletePods)
        repair.repairPods = try repairValues.bool("repairPods", repair.repairPods)
        repair.initContainerName = try repairValues.string("initContainerName", repair.initContainerName)
        repair.brokenPodLabelKey = try repairValues.string("brokenPodLabelKey", repair.brokenPodLabelKey)
        repair.brokenPodLabelValue = try repairValues.string("brokenPodLabelValue", repair.brokenPodLabelValue)
        podLabels = try top.stringMap("podLabels")
        podAnnotations = try top.stringMap("podAnnotations")
        daemonSetLabels = try top.stringMap("daemonSetLabels")
        env = try top.stringMap("env")
        resources = try top.object("resources", mapping: true) ?? resources
        tolerations = try top.object("tolerations", mapping: false) ?? tolerations
        affinity = try top.object("affinity", mapping: true) ?? affinity
        nodeSelector = try top.object("nodeSelector", mapping: true) ?? nodeSelector
        seccompProfile = try top.object("seccompProfile", mapping: true)
        seLinuxOptions = try top.object("seLinuxOptions", mapping: true)
        terminationGracePeriodSeconds = try top.int("terminationGracePeriodSeconds", terminationGracePeriodSeconds)
        let strategy = try top.section("updateStrategy")
        _ = try strategy.string("type", "RollingUpdate")
        maxUnavailable = try strategy.section("rollingUpdate").string("maxUnavailable", maxUnavailable)
        priorityClassName = try top.string("priorityClassName", priorityClassName)
        try top.finish()
    }
}
