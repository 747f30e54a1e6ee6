/// The repair loop's knobs: Istio's `REPAIR_*` names, plus the storm limits and host paths that are ours.
extension AgentSetting {
    public static let repairEnabled = AgentSetting("REPAIR_ENABLED", "run the repair loop for pods whose redirection is broken")
    public static let repairRepairPods = AgentSetting("REPAIR_REPAIR_PODS", "repair broken pods in place: program their rules in their netns")
    public static let repairDeletePods = AgentSetting("REPAIR_DELETE_PODS", "delete broken pods (when not repairing in place)")
    public static let repairLabelPods = AgentSetting("REPAIR_LABEL_PODS", "label broken pods (when neither repairing nor deleting)")
    public static let repairBrokenPodLabelKey = AgentSetting("REPAIR_BROKEN_POD_LABEL_KEY", "label key put on broken pods")
    public static let repairBrokenPodLabelValue = AgentSetting("REPAIR_BROKEN_POD_LABEL_VALUE", "label value put on broken pods")
    public static let repairNodeName = AgentSetting("REPAIR_NODE_NAME", "the node whose pods are repaired (required when repair is enabled)")
    public static let repairSidecarAnnotation = AgentSetting("REPAIR_SIDECAR_ANNOTATION", "only pods with this annotation are considered (empty: all)")
    public static let repairInitContainerName = AgentSetting("REPAIR_INIT_CONTAINER_NAME", "the validation init container to inspect (empty: any)")
    public static let repairInitContainerTerminationMessage = AgentSetting("REPAIR_INIT_CONTAINER_TERMINATION_MESSAGE", "only count terminations with this message (empty: any)")
    public static let repairInitContainerExitCode = AgentSetting("REPAIR_INIT_CONTAINER_EXIT_CODE", "only count terminations with this exit code (0: any)")
    public static let repairLabelSelectors = AgentSetting("REPAIR_LABEL_SELECTORS", "extra label selector for the pods considered")
    public static let repairFieldSelectors = AgentSetting("REPAIR_FIELD_SELECTORS", "extra field selector for the pods considered")
    public static let repairActionsPerSecond = AgentSetting("REPAIR_ACTIONS_PER_SECOND", "sustained rate of repair actions on this node")
    public static let repairActionBurst = AgentSetting("REPAIR_ACTION_BURST", "repair actions allowed at once before the rate applies")
    public static let repairBreakerBrokenShare = AgentSetting("REPAIR_BREAKER_BROKEN_SHARE", "share of mesh pods broken at once above which deletions stop (0-1)")
    public static let repairBreakerMinimumBroken = AgentSetting("REPAIR_BREAKER_MINIMUM_BROKEN", "broken pods needed before the breaker can open")
    public static let repairHostProcDir = AgentSetting("REPAIR_HOST_PROC_DIR", "the node's /proc as mounted in the container")
    public static let repairHostNetnsDir = AgentSetting("REPAIR_HOST_NETNS_DIR", "the node's /var/run/netns as mounted in the container")

    static let repairSettings: [AgentSetting] = [
        .repairEnabled, .repairRepairPods, .repairDeletePods, .repairLabelPods, .repairBrokenPodLabelKey, .repairBrokenPodLabelValue,
        .repairNodeName, .repairSidecarAnnotation, .repairInitContainerName, .repairInitContainerTerminationMessage,
        .repairInitContainerExitCode, .repairLabelSelectors, .repairFieldSelectors, .repairActionsPerSecond, .repairActionBurst,
        .repairBreakerBrokenShare, .repairBreakerMinimumBroken, .repairHostProcDir, .repairHostNetnsDir,
    ]
}
