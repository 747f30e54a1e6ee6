/// Stops deletions when too much of the node looks broken at once: then the CNI itself (or the node)
/// is likely at fault, and deleting pods would only recreate them into the same fault, in a storm.
struct RepairBreaker: Sendable, Equatable {
    let brokenShare: Double
    let minimumBroken: Int

    /// Open when at least `minimumBroken` pods are broken and they are more than `brokenShare` of the
    /// node's mesh pods.
    func isOpen(broken: Int, meshPods: Int) -> Bool {
        guard broken >= minimumBroken, meshPods > 0 else { return false }
        return Double(broken) / Double(meshPods) > brokenShare
    }

    func describe(broken: Int, meshPods: Int) -> String {
        let percent = meshPods == 0 ? 0 : Int((Double(broken) / Double(meshPods) * 100).rounded())
        return "\(broken) of \(meshPods) mesh pods on this node are broken (\(percent)%, limit \(Int((brokenShare * 100).rounded()))% with at least \(minimumBroken))"
    }
}
