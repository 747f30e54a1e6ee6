import Foundation
@testable import Manifests
import Testing
import Yams

@Suite struct ManifestGenerationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func objects(_ files: [(String, String)] = [], set: [String] = []) throws -> [Node] {
        try Array(Yams.compose_all(yaml: try ManifestGenerator.generate(files: files, assignments: set)))
    }

    func object(_ objects: [Node], kind: String, name: String) -> Node? {
        objects.first { $0["kind"]?.string == kind && $0["metadata"]?["name"]?.string == name }
    }

    func strings(_ node: Node?) -> [String] {
        node?.sequence?.compactMap(\.string) ?? []
    }

    /// (resources, verbs) of a ClusterRole's rules.
    func rules(_ role: Node?) -> [(String, [String])] {
        (role?["rules"]?.sequence ?? []).flatMap { rule in strings(rule["resources"]).map { ($0, strings(rule["verbs"])) } }
    }

    @Test func checkedInManifestsAreCurrent() throws {
        let expectations = [("daemonset/istio-cni.yaml", [String]()), ("daemonset/istio-cni-openshift.yaml", ["daemonset/openshift-values.yaml"])]
        for (output, inputs) in expectations {
            let files = try inputs.map { ($0, try String(contentsOf: Self.root.appendingPathComponent($0), encoding: .utf8)) }
            let generated = try ManifestGenerator.generate(files: files, assignments: [])
            let checkedIn = try String(contentsOf: Self.root.appendingPathComponent(output), encoding: .utf8)
            #expect(generated == checkedIn, "\(output) is stale: run scripts/generate-manifests.sh")
        }
    }

    /// The documented `kubectl apply --prune` names every kind the manifests hold (kubectl prunes only
    /// the kinds in `--prune-allowlist`, group/version/kind with `core` for the core group).
    @Test func thePruneAllowlistInTheDocsCoversEveryKind() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("daemonset/README.md"), encoding: .utf8)
        let allowed = Set(readme.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "`" })
            .filter { $0.hasPrefix("--prune-allowlist=") }.map { String($0.dropFirst("--prune-allowlist=".count)) })
        for file in ["daemonset/istio-cni.yaml", "daemonset/istio-cni-openshift.yaml"] {
            let text = try String(contentsOf: Self.root.appendingPathComponent(file), encoding: .utf8)
            for object in try Yams.compose_all(yaml: text) {
                let apiVersion = object["apiVersion"]?.string ?? ""
                let kind = object["kind"]?.string ?? ""
                let entry = (apiVersion.contains("/") ? apiVersion : "core/" + apiVersion) + "/" + kind
                #expect(allowed.contains(entry), "\(file): \(entry) is not in daemonset/README.md's --prune-allowlist")
            }
        }
    }

    @Test func defaultInstallMatchesIstiosChart() throws {
        let all = try objects()
        #expect(all.map { $0["kind"]?.string ?? "" } == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ClusterRole",
                                                        "ClusterRoleBinding", "ConfigMap", "DaemonSet"])
        #expect(all.allSatisfy { $0["metadata"]?["labels"]?["app.kubernetes.io/managed-by"]?.string == "install-cni" }, "prunable by label")
        let daemonSet = try #require(object(all, kind: "DaemonSet", name: "istio-cni-node"))
        let pod = try #require(daemonSet["spec"]?["template"]?["spec"])
        #expect(pod["priorityClassName"]?.string == "system-node-critical" && pod["serviceAccountName"]?.string == "istio-cni")
        #expect(pod["nodeSelector"]?["kubernetes.io/os"]?.string == "linux")
        #expect(pod["tolerations"]?.sequence?.count == 3)
        #expect(daemonSet["spec"]?["updateStrategy"]?["rollingUpdate"]?["maxUnavailable"]?.int == 1)
        let container = try #require(pod["containers"]?.sequence?.first)
        #expect(container["readinessProbe"]?["httpGet"]?["port"]?.int == 8000 && container["readinessProbe"]?["httpGet"]?["path"]?.string == "/readyz")
        #expect(strings(container["securityContext"]?["capabilities"]?["add"]) == ["NET_ADMIN", "NET_RAW", "SYS_PTRACE", "SYS_ADMIN", "DAC_OVERRIDE"])
        #expect(container["securityContext"]?["privileged"]?.bool == false)
        let mounts = (container["volumeMounts"]?.sequence ?? []).compactMap { $0["mountPath"]?.string }
        #expect(mounts == ["/host/opt/cni/bin", "/host/etc/cni/net.d", "/var/run/istio-cni", "/host/proc", "/host/var/run/netns"],
                "procfs and the runtimes' netns dir for repairPods, the default")
        let volumes = (pod["volumes"]?.sequence ?? []).compactMap { $0["hostPath"]?["path"]?.string }
        #expect(volumes == ["/opt/cni/bin", "/etc/cni/net.d", "/var/run/istio-cni", "/proc", "/var/run/netns"])
        let annotations = try #require(daemonSet["spec"]?["template"]?["metadata"]?["annotations"])
        #expect(annotations["sidecar.istio.io/inject"]?.string == "false" && annotations["prometheus.io/port"]?.string == "15014")
        let data = try #require(object(all, kind: "ConfigMap", name: "istio-cni-config")?["data"])
        #expect(data["CHAINED_CNI_PLUGIN"]?.string == "true" && data["EXCLUDE_NAMESPACES"]?.string == "kube-system")
        #expect(data["REPAIR_REPAIR_PODS"]?.string == "true" && data["CNI_CONF_NAME"] == nil)
        #expect(data["CHAINED_CNI_PLUGIN"]?.tag.rawValue == Tag.Name.str.rawValue, "ConfigMap values stay strings")
    }

    @Test func repairRBACFollowsTheMode() throws {
        let repairRole = { (set: [String]) throws -> [(String, [String])] in
            self.rules(self.object(try self.objects(set: set), kind: "ClusterRole", name: "istio-cni-repair-role"))
        }
        let repairing = try repairRole([])
        #expect(!repairing.contains { $0.1.contains("delete") || $0.1.contains("patch") && $0.0.hasPrefix("pods") }, "repair needs neither")
        #expect(repairing.contains { $0.0 == "events" && $0.1 == ["create", "patch"] })
        let deleting = try repairRole(["repair.repairPods=false", "repair.deletePods=true"])
        #expect(deleting.contains { $0.0 == "pods" && $0.1 == ["delete"] } && !deleting.contains { $0.0 == "pods/status" })
        let labelling = try repairRole(["repair.repairPods=false", "repair.labelPods=true"])
        #expect(labelling.contains { $0.0 == "pods/status" && $0.1 == ["patch"] } && !labelling.contains { $0.1.contains("delete") })
        #expect(!labelling.contains { $0.0 == "pods" && $0.1.contains("patch") }, "the label goes through pods/status only")
        #expect(object(try objects(set: ["repair.enabled=false"]), kind: "ClusterRole", name: "istio-cni-repair-role") == nil)
    }

    @Test func istioOperatorForOpenShift() throws {
        let values = try String(contentsOf: Self.root.appendingPathComponent("daemonset/openshift-values.yaml"), encoding: .utf8)
        let all = try objects([("openshift-values.yaml", values)])
        #expect(all.last?["kind"]?.string == "NetworkAttachmentDefinition" && all.last?["metadata"]?["namespace"]?.string == "default")
        let daemonSet = try #require(object(all, kind: "DaemonSet", name: "istio-cni-node"))
        #expect(daemonSet["metadata"]?["namespace"]?.string == "kube-system", "spec.components.cni.namespace")
        let volumes = (daemonSet["spec"]?["template"]?["spec"]?["volumes"]?.sequence ?? []).compactMap { $0["hostPath"]?["path"]?.string }
        #expect(volumes == ["/var/lib/cni/bin", "/etc/cni/multus/net.d", "/var/run/istio-cni"], "no procfs: repair deletes")
        let container = try #require(daemonSet["spec"]?["template"]?["spec"]?["containers"]?.sequence?.first)
        #expect(container["securityContext"]?["seLinuxOptions"]?["type"]?.string == "spc_t")
        let data = try #require(object(all, kind: "ConfigMap", name: "istio-cni-config")?["data"])
        #expect(data["CHAINED_CNI_PLUGIN"]?.string == "false" && data["CNI_CONF_NAME"]?.string == "istio-cni.conf")
        #expect(data["EXCLUDE_NAMESPACES"]?.string == "istio-system,kube-system,openshift-operators")
        #expect(rules(object(all, kind: "ClusterRole", name: "istio-cni")).contains { $0.0 == "securitycontextconstraints" && $0.1 == ["use"] })
    }

    @Test func laterFilesAndSetsWin() throws {
        let first = "cniBinDir: /a\nexcludeNamespaces: [x, y]\nglobal:\n  hub: registry.example/one\n"
        let second = "cni:\n  cniBinDir: /b\n"
        let values = try ManifestGenerator.values(files: [("1.yaml", first), ("2.yaml", second)], assignments: ["global.tag=9.9", "values.cni.chained=false"])
        #expect(values.cniBinDir == "/b" && values.excludeNamespaces == ["x", "y"] && values.hub == "registry.example/one")
        #expect(values.tag == "9.9" && !values.chained)
        let list = try ManifestGenerator.values(files: [], assignments: ["excludeNamespaces={a,b}"])
        #expect(list.excludeNamespaces == ["a", "b"])
    }

    @Test(arguments: [
        ("cniBinDirr: /x", "cniBinDirr: unknown key"),
        ("repair:\n  deletepods: true", "repair.deletepods: unknown key"),
        ("chained: maybe", "chained: expected true or false, got \"maybe\""),
        ("excludeNamespaces: kube-system", "excludeNamespaces: expected a list"),
        ("terminationGracePeriodSeconds: soon", "terminationGracePeriodSeconds: expected an integer"),
        ("provider: calico", "provider: must be default or multus"),
        ("profile: windows", "profile: unknown profile \"windows\""),
        ("kind: IstioOperator\nspec:\n  valuez: {}", "spec.valuez: unknown IstioOperator field"),
        ("kind: IstioOperator\nspec:\n  values:\n    cni:\n      repair:\n        enabled: 3", "repair.enabled: expected true or false, got \"3\""),
        ("- a list", "a values document must be a mapping"),
    ])
    func badValuesNameTheKeyPath(yaml: String, fragment: String) {
        #expect {
            _ = try ManifestGenerator.values(files: [("values.yaml", yaml)], assignments: [])
        } throws: { error in
            "\(error)".contains(fragment)
        }
    }
}
