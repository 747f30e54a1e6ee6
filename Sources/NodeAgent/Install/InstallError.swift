/// An install step that failed; `step` is also the `result` label of `istio_cni_installs_total`.
public struct InstallError: Error, Sendable, CustomStringConvertible {
    public enum Step: String, Sendable {
        case binaries = "COPY_BINARIES_FAILURE"
        case kubeconfig = "CREATE_KUBECONFIG_FAILURE"
        case cniConfig = "CREATE_CNI_CONFIG_FAILURE"
    }

    public let step: Step
    public let message: String

    init(_ step: Step, _ message: String) {
        self.step = step
        self.message = message
    }

    public var description: String { message }
}
