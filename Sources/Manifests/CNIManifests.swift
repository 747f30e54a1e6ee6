import Yams

/// The objects `kubectl apply` needs to run istio-cni on every node, from the chart values: the
/// ServiceAccount, least-privilege RBAC for the repair mode in use, the agent's ConfigMap, the
/// DaemonSet and, for Multus/OpenShift, the NetworkAttachmentDefinition.
public enum CNIManifests {
    /// On every object, so `kubectl apply --prune -l app.kubernetes.io/managed-by=install-cni` works.
    static let commonLabels: [(String, String)] = [
        ("app", "istio-cni"), ("app.kubernetes.io/name", "istio-cni"), ("app.kubernetes.io/part-of", "istio"),
        ("app.kubernetes.io/managed-by", "install-cni"), ("operator.istio.io/component", "Cni"),
    ]

    public static func objects(_ values: CNIValues) -> [Node] {
        guard values.enabled else { return [] }
        var objects = [serviceAccount(values), clusterRole(values), binding("istio-cni", role: "istio-cni", values)]
        if values.repair.enabled {
            objects += [repairRole(values), binding("istio-cni-repair-rolebinding", role: "istio-cni-repair-role", values)]
        }
        objects += [configMap(values), daemonSet(values)]
        if values.usesMultus { objects.append(networkAttachmentDefinition(values)) }
        return objects
    }

    static func metadata(_ name: String, namespace: String?, extraLabels: [(String, String)] = []) -> Node {
        Y.map([("name", Y.string(name)), ("namespace", namespace.map(Y.string)), ("labels", Y.labels(commonLabels + extraLabels))])
    }

    static func rule(_ groups: [String], _ resources: [String], _ verbs: [String], names: [String]? = nil) -> Node {
        Y.map([("apiGroups", Y.strings(groups)), ("resources", Y.strings(resources)),
               ("resourceNames", names.map(Y.strings)), ("verbs", Y.strings(verbs))])
    }

    static func serviceAccount(_ values: CNIValues) -> Node {
        Y.map([("apiVersion", "v1"), ("kind", "ServiceAccount"), ("metadata", metadata("istio-cni", namespace: values.namespace)),
               ("imagePullSecrets", values.imagePullSecrets.isEmpty ? nil : Y.list(values.imagePullSecrets.map { Y.map([("name", Y.string($0))]) }))])
    }

    /// What every mode needs: the pods of the node (cache, plugin kubeconfig), and the agent's own
    /// DaemonSet, read once at shutdown to decide whether to uninstall.
    static func clusterRole(_ values: CNIValues) -> Node {
        var rules = [rule([""], ["pods", "nodes", "namespaces"], ["get", "list", "watch"]), rule(["apps"], ["daemonsets"], ["get"])]
        if values.isOpenShift { rules.append(rule(["security.openshift.io"], ["securitycontextconstraints"], ["use"], names: ["privileged"])) }
        return Y.map([("apiVersion", "rbac.authorization.k8s.io/v1"), ("kind", "ClusterRole"), ("metadata", metadata("istio-cni", namespace: nil)),
                      ("rules", Y.list(rules))])
    }

    /// Only what the selected repair action uses (repairPods > deletePods > labelPods, as in Istio).
    static func repairRole(_ values: CNIValues) -> Node {
        var rules = [rule([""], ["pods"], ["watch", "get", "list"]), rule([""], ["events"], ["create", "patch"])]
        if !values.repair.repairPods {
            if values.repair.deletePods {
                rules.append(rule([""], ["pods"], ["delete"]))
            } else if values.repair.labelPods {
                // The label is merge-patched through the status subresource, as Istio does.
                rules.append(rule([""], ["pods/status"], ["patch"]))
            }
        }
        return Y.map([("apiVersion", "rbac.authorization.k8s.io/v1"), ("kind", "ClusterRole"),
                      ("metadata", metadata("istio-cni-repair-role", namespace: nil)), ("rules", Y.list(rules))])
    }

    static func binding(_ name: String, role: String, _ values: CNIValues) -> Node {
        Y.map([("apiVersion", "rbac.authorization.k8s.io/v1"), ("kind", "ClusterRoleBinding"), ("metadata", metadata(name, namespace: nil)),
               ("roleRef", Y.map([("apiGroup", "rbac.authorization.k8s.io"), ("kind", "ClusterRole"), ("name", Y.string(role))])),
               ("subjects", Y.list([Y.map([("kind", "ServiceAccount"), ("name", "istio-cni"), ("namespace", Y.string(values.namespace))])]))])
    }

    /// The agent's environment (Istio's variable names), loaded with envFrom.
    static func configMap(_ values: CNIValues) -> Node {
        var data: [(String, String)] = [
            ("CHAINED_CNI_PLUGIN", String(values.chained)),
            ("EXCLUDE_NAMESPACES", values.excludeNamespaces.joined(separator: ",")),
            ("NATIVE_NFTABLES", String(values.nativeNftables)),
            ("LOG_LEVEL", values.logLevel),
            ("REPAIR_ENABLED", String(values.repair.enabled)),
            ("REPAIR_LABEL_PODS", String(values.repair.labelPods)),
            ("REPAIR_DELETE_PODS", String(values.repair.deletePods)),
            ("REPAIR_REPAIR_PODS", String(values.repair.repairPods)),
            ("REPAIR_INIT_CONTAINER_NAME", values.repair.initContainerName),
            ("REPAIR_BROKEN_POD_LABEL_KEY", values.repair.brokenPodLabelKey),
            ("REPAIR_BROKEN_POD_LABEL_VALUE", values.repair.brokenPodLabelValue),
        ]
        if let name = values.cniConfFileName { data.insert(("CNI_CONF_NAME", name), at: 0) }
        data += values.env
        return Y.map([("apiVersion", "v1"), ("kind", "ConfigMap"), ("metadata", metadata("istio-cni-config", namespace: values.namespace)),
                      ("data", Y.labels(data))])
    }

    static func networkAttachmentDefinition(_ values: CNIValues) -> Node {
        // No spec.config: Multus then reads the config named istio-cni from its conf dir (our standalone file).
        Y.map([("apiVersion", "k8s.cni.cncf.io/v1"), ("kind", "NetworkAttachmentDefinition"),
               ("metadata", metadata("istio-cni", namespace: "default"))])
    }
}
