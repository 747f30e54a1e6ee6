import Kubernetes

/// The repair loop's validated settings (Istio's defaults for Istio's names).
public struct RepairConfiguration: Sendable, Equatable {
    /// What is done to a broken pod; Istio's precedence: repair > delete > label > report only.
    public enum Action: String, Sendable, Equatable {
        case repair, delete, label, reportOnly = "report-only"
    }

    public var enabled = true
    public var repairPods = false
    public var deletePods = false
    public var labelPods = false
    public var brokenPodLabelKey = "cni.istio.io/uninitialized"
    public var brokenPodLabelValue = "true"
    public var nodeName: String?
    public var sidecarAnnotation = "sidecar.istio.io/status"
    public var initContainerName = "istio-validation"
    public var initContainerTerminationMessage = ""
    public var initContainerExitCode: Int64 = 126
    public var labelSelector = ""
    public var fieldSelector = ""
    public var actionsPerSecond = 10.0
    public var actionBurst = 100
    public var breakerBrokenShare = 0.5
    public var breakerMinimumBroken = 3
    public var hostProcDirectory = "/host/proc"
    public var hostNetnsDirectory = "/host/var/run/netns"

    public init() {}

    public var action: Action {
        repairPods ? .repair : deletePods ? .delete : labelPods ? .label : .reportOnly
    }

    /// The extra selectors, parsed (validated at start-up, so this cannot fail later).
    public var extraSelector: ObjectSelector {
        (try? ObjectSelector(labelSelector: labelSelector, fieldSelector: fieldSelector)) ?? .everything
    }

    init(_ source: SettingSource) throws(AgentConfigurationError) {
        typealias Check = AgentConfiguration
        if let v = source[.repairEnabled] { enabled = try Check.bool(v, .repairEnabled) }
        if let v = source[.repairRepairPods] { repairPods = try Check.bool(v, .repairRepairPods) }
        if let v = source[.repairDeletePods] { deletePods = try Check.bool(v, .repairDeletePods) }
        if let v = source[.repairLabelPods] { labelPods = try Check.bool(v, .repairLabelPods) }
        if let v = source[.repairBrokenPodLabelKey] { brokenPodLabelKey = try Self.labelKey(v, .repairBrokenPodLabelKey) }
        if let v = source[.repairBrokenPodLabelValue] { brokenPodLabelValue = try Self.labelValue(v, .repairBrokenPodLabelValue) }
        if let v = source[.repairNodeName], !v.isEmpty { nodeName = try Check.name(v, .repairNodeName, subdomain: true) }
        if let v = source[.repairSidecarAnnotation] { sidecarAnnotation = v.isEmpty ? "" : try Self.labelKey(v, .repairSidecarAnnotation) }
        if let v = source[.repairInitContainerName] { initContainerName = v.isEmpty ? "" : try Check.name(v, .repairInitContainerName) }
        if let v = source[.repairInitContainerTerminationMessage] { initContainerTerminationMessage = v.trimmingCharacters(in: " \t\r\n") }
        if let v = source[.repairInitContainerExitCode] {
            guard let code = Int64(v), (0...255).contains(code) else {
                throw AgentConfigurationError(.repairInitContainerExitCode, v, "is not an exit code (0-255; 0 matches any)")
            }
            initContainerExitCode = code
        }
        if let v = source[.repairLabelSelectors] { labelSelector = v }
        if let v = source[.repairFieldSelectors] { fieldSelector = v }
        do { _ = try ObjectSelector(labelSelector: labelSelector, fieldSelector: "") } catch {
            throw AgentConfigurationError(.repairLabelSelectors, labelSelector, "is not a label selector: \(error.message)")
        }
        do { _ = try ObjectSelector(labelSelector: "", fieldSelector: fieldSelector) } catch {
            throw AgentConfigurationError(.repairFieldSelectors, fieldSelector, "is not a field selector: \(error.message)")
        }
        if let v = source[.repairActionsPerSecond] {
            guard let rate = Double(v), rate > 0, rate <= 10_000 else {
                throw AgentConfigurationError(.repairActionsPerSecond, v, "is not a rate above 0 (actions per second)")
            }
            actionsPerSecond = rate
        }
        if let v = source[.repairActionBurst] { actionBurst = try Self.count(v, .repairActionBurst, minimum: 1) }
        if let v = source[.repairBreakerBrokenShare] {
            guard let share = Double(v), share > 0, share <= 1 else {
                throw AgentConfigurationError(.repairBreakerBrokenShare, v, "is not a share between 0 and 1 (1 disables the breaker)")
            }
            breakerBrokenShare = share
        }
        if let v = source[.repairBreakerMinimumBroken] { breakerMinimumBroken = try Self.count(v, .repairBreakerMinimumBroken, minimum: 1) }
        if let v = source[.repairHostProcDir] { hostProcDirectory = try Check.absolutePath(v, .repairHostProcDir) }
        if let v = source[.repairHostNetnsDir] { hostNetnsDirectory = try Check.absolutePath(v, .repairHostNetnsDir) }
    }

    private static func count(_ value: String, _ setting: AgentSetting, minimum: Int) throws(AgentConfigurationError) -> Int {
        guard let number = Int(value), number >= minimum else {
            throw AgentConfigurationError(setting, value, "is not a whole number of at least \(minimum)")
        }
        return number
    }

    static func labelKey(_ value: String, _ setting: AgentSetting) throws(AgentConfigurationError) -> String {
        guard KubernetesNames.isQualifiedKey(value) else { throw AgentConfigurationError(setting, value, "is not a label or annotation key") }
        return value
    }

    static func labelValue(_ value: String, _ setting: AgentSetting) throws(AgentConfigurationError) -> String {
        guard KubernetesNames.isLabelValue(value) else { throw AgentConfigurationError(setting, value, "is not a label value") }
        return value
    }
}
