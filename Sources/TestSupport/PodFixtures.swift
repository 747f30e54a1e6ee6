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
