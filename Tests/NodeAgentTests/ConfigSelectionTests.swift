@testable import NodeAgent
import Testing

/// Which file is the node's primary CNI config (Istio's rules, plus: our own leftovers never count).
@Suite struct ConfigSelectionTests {
    func locate(_ fixture: NodeFixture, forced: String? = nil) -> PrimaryConfigLocator.Candidate {
        PrimaryConfigLocator(directory: fixture.netDirectory, forcedName: forced).locate()
    }

    @Test func firstValidFileInBytewiseOrder() throws {
        let node = try NodeFixture()
        #expect(locate(node) == .none(reason: "no valid primary CNI config in \(node.netDirectory) yet"))
        try node.write("net.d/00-notes.txt", "not a config")
        try node.write("net.d/01-broken.conf", "{ truncated")
        try node.write("net.d/02-minikube.conf", #"{"cniVersion":"0.3.1","name":"x"}"#)
        try node.write("net.d/03-noname.conflist", #"{"cniVersion":"0.3.1","plugins":[{"type":"bridge"}]}"#)
        try node.write("net.d/04-noplugins.conflist", #"{"cniVersion":"0.3.1","name":"x","plugins":[]}"#)
        try node.write("net.d/05-istio-cni.conf", #"{"cniVersion":"0.3.1","name":"istio-cni","type":"istio-cni"}"#)
        try node.write("net.d/Z-late.conflist", NodeFixture.bridgeList)
        try node.write("net.d/10-calico.conflist", NodeFixture.bridgeList)
        #expect(locate(node) == .file(path: node.netDirectory + "/10-calico.conflist"), "Z sorts after 1 bytewise")
        guard case .none(let reason) = PrimaryConfigLocator(directory: node.netDirectory + "/missing", forcedName: nil).locate() else {
            Issue.record("a missing directory has no config")
            return
        }
        #expect(reason.contains("no valid primary CNI config"))
    }

    @Test func skippedFilesAreNamedInTheReason() throws {
        let node = try NodeFixture()
        try node.write("net.d/01-broken.conf", "{ truncated")
        guard case .none(let reason) = locate(node) else {
            Issue.record("nothing valid")
            return
        }
        #expect(reason.contains("01-broken.conf: not a JSON object"))
    }

    @Test func forcedNameFallsBackToItsTwin() throws {
        let node = try NodeFixture()
        try node.write("net.d/00-first.conflist", NodeFixture.bridgeList)
        try node.write("net.d/10-calico.conflist", NodeFixture.bridgeList)
        #expect(locate(node, forced: "10-calico.conf") == .file(path: node.netDirectory + "/10-calico.conflist"))
        #expect(locate(node, forced: "10-calico.conflist") == .file(path: node.netDirectory + "/10-calico.conflist"))
        guard case .none = locate(node, forced: "20-other.conflist") else {
            Issue.record("a forced name that does not exist is waited for, not replaced by another file")
            return
        }
    }
}
