import JSON

/// Pod objects as the sidecar injector leaves them, for the emulator.
public enum PodFixtures {
    /// A sidecar-injected pod: app container, istio-validation init container, istio-proxy sidecar,
    /// the sidecar.istio.io/status annotation.
    public static func meshPod(name: String, namespace: String = "default", annotations: [String: String] = [:],
                               labels: [String: String] = [:], proxyEnvironment: [String: String] = [:],
                               runAsUser: Int? = nil, runAsGroup: Int? = nil, proxyArgs: [String] = ["proxy", "sidecar"]) -> JSONValue {
        var allAnnotations = ["sidecar.istio.io/status": #"{"initContainers":["istio-validation"],"containers":["istio-proxy"]}"#]
        allAnnotations.merge(annotations) { $1 }
        var security = JSONObject()
        if let runAsUser { security["runAsUser"] = .integer(runAsUser) }
        if let runAsGroup { security["runAsGroup"] = .integer(runAsGroup) }
        let proxy = JSONObject([
            ("name", .string("istio-proxy")),
            ("args", .array(proxyArgs.map(JSONValue.string))),
            ("env", .array(proxyEnvironment.sorted { $0.key < $1.key }.map { .object(JSONObject([("name", .string($0.key)), ("value", .string($0.value))])) })),
            ("securityContext", .object(security)),
        ])
        return pod(name: name, namespace: namespace, annotations: allAnnotations, labels: labels,
                   containers: [.object(JSONObject([("name", .string("app"))])), .object(proxy)],
                   initContainers: [.object(JSONObject([("name", .string("istio-validation"))]))])
    }

    /// A pod without a sidecar.
    public static func plainPod(name: String, namespace: String = "default") -> JSONValue {
        pod(name: name, namespace: namespace, annotations: [:], labels: [:],
            containers: [.object(JSONObject([("name", .string("app"))]))], initContainers: [])
    }

    public static func pod(name: String, namespace: String, annotations: [String: String], labels: [String: String],
                           containers: [JSONValue], initContainers: [JSONValue]) -> JSONValue {
        .object(JSONObject([
            ("metadata", .object(JSONObject([
                ("name", .string(name)), ("namespace", .string(namespace)),
                ("labels", .object(JSONObject(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))),
                ("annotations", .object(JSONObject(annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))),
            ]))),
            ("spec", .object(JSONObject([
                ("nodeName", .string("node-a")),
                ("containers", .array(containers)),
                ("initContainers", .array(initContainers)),
            ]))),
        ]))
    }
}

/// Pod statuses as the kubelet writes them, for the repair loop.
extension PodFixtures {
    /// `istio-validation` failed with `exitCode` and is being restarted (or, for `restartPolicy:
    /// Never`, has terminated for good).
    public static func brokenStatus(exitCode: Int = 126, message: String = "iptables validation failed", podIP: String = "203.0.113.2",
                                    neverRestarts: Bool = false) -> JSONValue {
        let terminated = JSONValue.object(JSONObject([
            ("exitCode", .integer(exitCode)), ("reason", .string("Error")), ("message", .string(message)),
        ]))
        let validation: JSONObject = neverRestarts
            ? JSONObject([("name", .string("istio-validation")), ("state", .object(JSONObject([("terminated", terminated)]))), ("restartCount", .integer(0))])
            : JSONObject([("name", .string("istio-validation")),
                          ("state", .object(JSONObject([("waiting", .object(JSONObject([("reason", .string("CrashLoopBackOff"))])))]))),
                          ("lastState", .object(JSONObject([("terminated", terminated)]))), ("restartCount", .integer(2))])
        return status(phase: neverRestarts ? "Failed" : "Pending", podIP: podIP, initContainers: [.object(validation)])
    }

    /// `istio-validation` completed; the pod runs.
    public static func healthyStatus(podIP: String = "203.0.113.2") -> JSONValue {
        let validation = JSONObject([("name", .string("istio-validation")), ("state", .object(JSONObject([("terminated", .object(JSONObject([
            ("exitCode", .integer(0)), ("reason", .string("Completed")),
        ])))]))), ("restartCount", .integer(0))])
        return status(phase: "Running", podIP: podIP, initContainers: [.object(validation)])
    }

    static func status(phase: String, podIP: String, initContainers: [JSONValue]) -> JSONValue {
        .object(JSONObject([
            ("phase", .string(phase)), ("podIP", .string(podIP)),
            ("podIPs", .array([.object(JSONObject([("ip", .string(podIP))]))])),
            ("initContainerStatuses", .array(initContainers)),
        ]))
    }

    /// `pod` with `status` (and, for pods that never restart, `restartPolicy: Never`).
    public static func with(_ pod: JSONValue, status: JSONValue, restartPolicy: String? = nil) -> JSONValue {
        guard var object = pod.objectValue else { return pod }
        object["status"] = status
        if let restartPolicy, var spec = object["spec"]?.objectValue {
            spec["restartPolicy"] = .string(restartPolicy)
            object["spec"] = .object(spec)
        }
        return .object(object)
    }
}
