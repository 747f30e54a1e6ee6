import JSON
import Kubernetes

/// Why a pod counts as broken: its validation init container failed the way `install-cni validate`
/// fails when redirection is not in place.
struct BrokenPodDiagnosis: Sendable, Equatable, CustomStringConvertible {
    let container: String
    let exitCode: Int64
    let message: String
    /// `restartPolicy: Never`: the failed init container will not run again.
    let neverRestarts: Bool

    var description: String {
        let quoted = message.isEmpty ? "" : " (\"\(message.count > 200 ? String(message.prefix(200)) + "…" : message)\")"
        return "init container \(container) exited \(exitCode)\(quoted)\(neverRestarts ? ", restartPolicy Never" : "")"
    }
}

/// Istio's broken-pod rule (`matchesFilter`), extended to pods that never restart: a pod with the
/// sidecar annotation whose validation init container is not completed and whose last termination
/// (or, with `restartPolicy: Never`, current termination) has the configured exit code and message.
struct BrokenPodPredicate: Sendable {
    let sidecarAnnotation: String
    let initContainerName: String
    let terminationMessage: String
    let exitCode: Int64
    let extraSelector: ObjectSelector

    init(_ configuration: RepairConfiguration) {
        sidecarAnnotation = configuration.sidecarAnnotation
        initContainerName = configuration.initContainerName
        terminationMessage = configuration.initContainerTerminationMessage
        exitCode = configuration.initContainerExitCode
        extraSelector = configuration.extraSelector
    }

    /// A pod the repair loop looks after: has the sidecar annotation and matches the extra selectors.
    func isMeshPod(_ pod: JSONValue) -> Bool {
        if !sidecarAnnotation.isEmpty, pod["metadata"]?["annotations"]?[sidecarAnnotation] == nil { return false }
        return extraSelector.isEverything || extraSelector.matches(pod)
    }

    /// Why `pod` is broken, or nil when it is not (or is already being deleted).
    func diagnose(_ pod: JSONValue) -> BrokenPodDiagnosis? {
        guard isMeshPod(pod), pod["metadata"]?["deletionTimestamp"] == nil else { return nil }
        let neverRestarts = pod["spec"]?["restartPolicy"]?.stringValue == "Never"
        for status in pod["status"]?["initContainerStatuses"]?.arrayValue ?? [] {
            let name = status["name"]?.stringValue ?? ""
            if !initContainerName.isEmpty, name != initContainerName { continue }
            let current = status["state"]?["terminated"]
            if let current, current["reason"]?.stringValue == "Completed" || current["exitCode"]?.int64Value == 0 { continue }
            // Restartable pods keep the failure in lastState while the container is retried; a pod that
            // never restarts keeps it in state.
            guard let termination = status["lastState"]?["terminated"] ?? (neverRestarts ? current : nil) else { continue }
            let message = (termination["message"]?.stringValue ?? "").trimmingCharacters(in: " \t\r\n")
            if !terminationMessage.isEmpty, message != terminationMessage { continue }
            let code = termination["exitCode"]?.int64Value ?? -1
            if exitCode != 0, code != exitCode { continue }
            return BrokenPodDiagnosis(container: name, exitCode: code, message: message, neverRestarts: neverRestarts)
        }
        return nil
    }
}
