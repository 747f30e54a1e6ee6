import JSON
@testable import NodeAgent
import Testing
import TestSupport

/// Istio's broken-pod rule (its TestMatchesFilter cases) plus the restartPolicy Never extension.
struct BrokenPodPredicateTests {
    let predicate = BrokenPodPredicate(RepairConfiguration())

    func initStatus(_ name: String = "istio-validation", state: JSONValue, last: JSONValue? = nil) -> JSONValue {
        var status = JSONObject([("name", .string(name)), ("state", state)])
        if let last { status["lastState"] = last }
        return .object(status)
    }

    func terminated(_ code: Int, reason: String = "Error", message: String = "") -> JSONValue {
        .object(JSONObject([("terminated", .object(JSONObject([("exitCode", .integer(code)), ("reason", .string(reason)), ("message", .string(message))])))]))
    }

    func pod(_ statuses: [JSONValue], annotated: Bool = true, restartPolicy: String? = nil) -> JSONValue {
        let base = annotated ? PodFixtures.meshPod(name: "web") : PodFixtures.plainPod(name: "web")
        return PodFixtures.with(base, status: .object(JSONObject([("initContainerStatuses", .array(statuses))])), restartPolicy: restartPolicy)
    }

    let waiting = JSONValue.object(JSONObject([("waiting", .object(JSONObject([("reason", .string("CrashLoopBackOff"))])))]))

    @Test func validationFailureBeingRetriedIsBroken() throws {
        let diagnosis = try #require(predicate.diagnose(pod([initStatus(state: waiting, last: terminated(126, message: " no rules \n"))])))
        #expect(diagnosis == BrokenPodDiagnosis(container: "istio-validation", exitCode: 126, message: "no rules", neverRestarts: false))
    }

    @Test func completedOrSucceededNowIsNotBroken() {
        #expect(predicate.diagnose(pod([initStatus(state: terminated(0, reason: "Completed"), last: terminated(126))])) == nil)
        #expect(predicate.diagnose(pod([initStatus(state: terminated(0, reason: "Whatever"), last: terminated(126))])) == nil)
    }

    @Test func otherExitCodesOtherContainersAndUnannotatedPodsAreNotBroken() {
        #expect(predicate.diagnose(pod([initStatus(state: waiting, last: terminated(1))])) == nil)
        #expect(predicate.diagnose(pod([initStatus("other-init", state: waiting, last: terminated(126))])) == nil)
        #expect(predicate.diagnose(pod([initStatus(state: waiting, last: terminated(126))], annotated: false)) == nil)
        #expect(predicate.diagnose(pod([initStatus(state: waiting)])) == nil)
    }

    @Test func filtersCanBeWidenedOrNarrowed() {
        var anyContainerAnyCode = RepairConfiguration()
        anyContainerAnyCode.initContainerName = ""
        anyContainerAnyCode.initContainerExitCode = 0
        #expect(BrokenPodPredicate(anyContainerAnyCode).diagnose(pod([initStatus("other-init", state: waiting, last: terminated(3))])) != nil)

        var byMessage = RepairConfiguration()
        byMessage.initContainerTerminationMessage = "redirect missing"
        #expect(BrokenPodPredicate(byMessage).diagnose(pod([initStatus(state: waiting, last: terminated(126, message: "redirect missing"))])) != nil)
        #expect(BrokenPodPredicate(byMessage).diagnose(pod([initStatus(state: waiting, last: terminated(126, message: "other"))])) == nil)
    }

    @Test func aPodThatNeverRestartsIsBrokenByItsCurrentTermination() throws {
        let job = pod([initStatus(state: terminated(126))], restartPolicy: "Never")
        #expect(try #require(predicate.diagnose(job)).neverRestarts)
        // The same status on a restartable pod is a container about to be retried without a record yet.
        #expect(predicate.diagnose(pod([initStatus(state: terminated(126))])) == nil)
    }

    @Test func podsBeingDeletedAreLeftAlone() {
        guard var object = pod([initStatus(state: waiting, last: terminated(126))]).objectValue, var metadata = object["metadata"]?.objectValue else { return }
        metadata["deletionTimestamp"] = .string("2026-12-02T00:00:00Z")
        object["metadata"] = .object(metadata)
        #expect(predicate.diagnose(.object(object)) == nil)
    }

    @Test func extraSelectorsNarrowTheMeshPods() throws {
        var configuration = RepairConfiguration()
        configuration.labelSelector = "app in (web,api),tier!=batch"
        configuration.fieldSelector = "metadata.namespace=default"
        let selective = BrokenPodPredicate(configuration)
        let web = PodFixtures.with(PodFixtures.meshPod(name: "w", labels: ["app": "web"]), status: PodFixtures.brokenStatus())
        let batch = PodFixtures.with(PodFixtures.meshPod(name: "b", labels: ["app": "web", "tier": "batch"]), status: PodFixtures.brokenStatus())
        let elsewhere = PodFixtures.with(PodFixtures.meshPod(name: "e", namespace: "other", labels: ["app": "api"]), status: PodFixtures.brokenStatus())
        #expect(selective.diagnose(web) != nil)
        #expect(selective.diagnose(batch) == nil)
        #expect(selective.diagnose(elsewhere) == nil)
    }
}

struct RepairLimitTests {
    @Test func backoffLetsTheFirstActionGoAndDoublesAfterwards() {
        let backoff = PerPodBackoff(initial: .seconds(1), maximum: .seconds(8), forgetAfter: .seconds(60))
        let start = ContinuousClock.now
        #expect(backoff.wait(for: "a", now: start) == .zero)
        var waits: [Duration] = []
        for _ in 0..<6 {
            backoff.recordAction("a", now: start)
            waits.append(backoff.wait(for: "a", now: start))
        }
        #expect(waits == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(8), .seconds(8)])
        #expect(backoff.wait(for: "b", now: start) == .zero)
        #expect(backoff.wait(for: "a", now: start + .seconds(61)) == .zero)
    }

    @Test func breakerOpensAboveTheShareOnlyWithEnoughBrokenPods() {
        let breaker = RepairBreaker(brokenShare: 0.5, minimumBroken: 3)
        #expect(!breaker.isOpen(broken: 2, meshPods: 2))
        #expect(!breaker.isOpen(broken: 3, meshPods: 6))
        #expect(breaker.isOpen(broken: 3, meshPods: 5))
        #expect(!breaker.isOpen(broken: 0, meshPods: 0))
    }

    @Test func repairSettingsAreValidatedAndNodeNameIsRequiredToRun() throws {
        #expect(throws: AgentConfigurationError.self) { try AgentConfiguration(environment: ["REPAIR_LABEL_SELECTORS": "app in (web"]) }
        #expect(throws: AgentConfigurationError.self) { try AgentConfiguration(environment: ["REPAIR_FIELD_SELECTORS": "spec.nodeName"]) }
        #expect(throws: AgentConfigurationError.self) { try AgentConfiguration(environment: ["REPAIR_BROKEN_POD_LABEL_KEY": "bad key"]) }
        #expect(throws: AgentConfigurationError.self) { try AgentConfiguration(environment: ["REPAIR_INIT_CONTAINER_EXIT_CODE": "300"]) }
        #expect(throws: AgentConfigurationError.self) { try AgentConfiguration(environment: ["REPAIR_BREAKER_BROKEN_SHARE": "1.5"]) }
        #expect {
            try AgentConfiguration(environment: [:]).checkForRun()
        } throws: { "\($0)".contains("REPAIR_NODE_NAME") && "\($0)".contains("REPAIR_ENABLED=false") }
        try AgentConfiguration(environment: ["REPAIR_ENABLED": "false"]).checkForRun()
        try AgentConfiguration(environment: ["REPAIR_NODE_NAME": "node-a", "NODE_NAME": "node-a"]).checkForRun()
        #expect(throws: AgentConfigurationError.self) { try AgentConfiguration(environment: ["REPAIR_NODE_NAME": "node-a", "NODE_NAME": "node-b"]).checkForRun() }
        let configuration = try AgentConfiguration(environment: ["REPAIR_REPAIR_PODS": "true", "REPAIR_DELETE_PODS": "true"])
        #expect(configuration.repair.action == .repair)
        #expect(try AgentConfiguration(environment: ["REPAIR_DELETE_PODS": "true", "REPAIR_LABEL_PODS": "true"]).repair.action == .delete)
        #expect(try AgentConfiguration(environment: [:]).repair.action == .reportOnly)
    }
}
