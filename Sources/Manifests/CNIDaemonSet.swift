import Yams

extension CNIManifests {
    static let selectorLabels: [(String, String)] = [("k8s-app", "istio-cni-node")]

    /// istio-cni-node (the plugin's own-pod check relies on the name): one agent per Linux node, not
    /// evicted (system-node-critical), tolerating every taint, mounting the node's CNI dirs.
    static func daemonSet(_ values: CNIValues) -> Node {
        let podLabels = selectorLabels + [("sidecar.istio.io/inject", "false"), ("istio.io/dataplane-mode", "none")] + values.podLabels
        let annotations = [("sidecar.istio.io/inject", "false"), ("prometheus.io/scrape", "true"),
                           ("prometheus.io/port", "15014"), ("prometheus.io/path", "/metrics")] + values.podAnnotations
        let podSpec = Y.map([
            ("nodeSelector", values.nodeSelector ?? Y.map([("kubernetes.io/os", "linux")])),
            ("affinity", values.affinity),
            ("tolerations", values.tolerations ?? Y.list([
                Y.map([("effect", "NoSchedule"), ("operator", "Exists")]),
                Y.map([("key", "CriticalAddonsOnly"), ("operator", "Exists")]),
                Y.map([("effect", "NoExecute"), ("operator", "Exists")]),
            ])),
            ("priorityClassName", Y.string(values.priorityClassName)),
            ("serviceAccountName", "istio-cni"),
            // The agent decides at SIGTERM whether to uninstall (see the README); it needs a moment.
            ("terminationGracePeriodSeconds", Y.int(values.terminationGracePeriodSeconds)),
            ("containers", Y.list([container(values)])),
            ("volumes", Y.list(volumes(values))),
        ])
        return Y.map([
            ("apiVersion", "apps/v1"), ("kind", "DaemonSet"),
            ("metadata", metadata("istio-cni-node", namespace: values.namespace, extraLabels: selectorLabels + values.daemonSetLabels)),
            ("spec", Y.map([
                ("selector", Y.map([("matchLabels", Y.labels(selectorLabels))])),
                ("updateStrategy", Y.map([("type", "RollingUpdate"), ("rollingUpdate", Y.map([("maxUnavailable", maxUnavailable(values))]))])),
                ("template", Y.map([
                    ("metadata", Y.map([("labels", Y.labels(commonLabels + podLabels)), ("annotations", Y.labels(annotations))])),
                    ("spec", podSpec),
                ])),
            ])),
        ])
    }

    private static func maxUnavailable(_ values: CNIValues) -> Node {
        Int(values.maxUnavailable).map(Y.int) ?? Y.string(values.maxUnavailable)
    }

    private static func fieldEnv(_ name: String, _ path: String) -> Node {
        Y.map([("name", Y.string(name)), ("valueFrom", Y.map([("fieldRef", Y.map([("fieldPath", Y.string(path))]))]))])
    }

    private static func container(_ values: CNIValues) -> Node {
        var mounts = [
            Y.map([("mountPath", "/host/opt/cni/bin"), ("name", "cni-bin-dir")]),
            Y.map([("mountPath", "/host/etc/cni/net.d"), ("name", "cni-net-dir")]),
            Y.map([("mountPath", "/var/run/istio-cni"), ("name", "cni-socket-dir")]),
        ]
        if values.repair.enabled && values.repair.repairPods {
            mounts.append(Y.map([("mountPath", "/host/proc"), ("name", "cni-host-procfs"), ("readOnly", Y.bool(true))]))
            // Runtimes' named netns (CNI_NETNS under /var/run/netns) for the netns paths the plugin records.
            mounts.append(Y.map([("mountPath", "/host/var/run/netns"), ("name", "cni-netns-dir"), ("readOnly", Y.bool(true)),
                                 ("mountPropagation", "HostToContainer")]))
        }
        var securityContext: [(String, Node?)] = [
            ("privileged", Y.bool(false)), ("runAsGroup", Y.int(0)), ("runAsUser", Y.int(0)), ("runAsNonRoot", Y.bool(false)),
            ("capabilities", Y.map([("drop", Y.strings(["ALL"])),
                                    ("add", Y.strings(["NET_ADMIN", "NET_RAW", "SYS_PTRACE", "SYS_ADMIN", "DAC_OVERRIDE"]))])),
        ]
        if values.isOpenShift || values.seLinuxOptions != nil {
            securityContext.append(("seLinuxOptions", values.seLinuxOptions ?? Y.map([("type", "spc_t")])))
        }
        if let seccomp = values.seccompProfile { securityContext.append(("seccompProfile", seccomp)) }
        let hub = values.hub.hasSuffix("/") ? String(values.hub.dropLast()) : values.hub
        return Y.map([
            ("name", "install-cni"),
            ("image", Y.string(values.image.contains("/") ? values.image : "\(hub)/\(values.image):\(values.tag)")),
            ("imagePullPolicy", values.pullPolicy.map(Y.string)),
            ("command", Y.strings(["install-cni"])),
            ("args", Y.strings(["run"])),
            ("ports", Y.list([Y.map([("containerPort", Y.int(15014)), ("name", "metrics"), ("protocol", "TCP")])])),
            ("readinessProbe", Y.map([("httpGet", Y.map([("path", "/readyz"), ("port", Y.int(8000))]))])),
            ("livenessProbe", Y.map([("httpGet", Y.map([("path", "/healthz"), ("port", Y.int(8000))])), ("failureThreshold", Y.int(6))])),
            ("envFrom", Y.list([Y.map([("configMapRef", Y.map([("name", "istio-cni-config")]))])])),
            ("env", Y.list([
                fieldEnv("REPAIR_NODE_NAME", "spec.nodeName"),
                Y.map([("name", "REPAIR_SIDECAR_ANNOTATION"), ("value", "sidecar.istio.io/status")]),
                fieldEnv("NODE_NAME", "spec.nodeName"),
                fieldEnv("POD_NAME", "metadata.name"),
                fieldEnv("POD_NAMESPACE", "metadata.namespace"),
            ])),
            ("resources", values.resources ?? Y.map([("requests", Y.map([("cpu", "100m"), ("memory", "100Mi")]))])),
            ("securityContext", Y.map(securityContext)),
            ("volumeMounts", Y.list(mounts)),
        ])
    }

    private static func hostPath(_ name: String, _ path: String, type: String? = nil) -> Node {
        Y.map([("name", Y.string(name)), ("hostPath", Y.map([("path", Y.string(path)), ("type", type.map(Y.string))]))])
    }

    private static func volumes(_ values: CNIValues) -> [Node] {
        var volumes = [hostPath("cni-bin-dir", values.cniBinDir), hostPath("cni-net-dir", values.cniConfDir),
                       hostPath("cni-socket-dir", "/var/run/istio-cni")]
        if values.repair.enabled && values.repair.repairPods {
            volumes.append(hostPath("cni-host-procfs", "/proc", type: "Directory"))
            volumes.append(hostPath("cni-netns-dir", "/var/run/netns", type: "DirectoryOrCreate"))
        }
        return volumes
    }
}
