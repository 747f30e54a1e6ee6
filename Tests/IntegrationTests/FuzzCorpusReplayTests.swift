import Foundation
import Testing
import TestSupport

/// Every checked-in fuzz seed (and every input a fuzzer once crashed on, kept in the corpus after the
/// fix) goes through its parser and invariant in the ordinary build: a regression fails here, not
/// only in a fuzzing session.
@Suite struct FuzzCorpusReplayTests {
    @Test(arguments: ["cni-config", "cni-args", "annotations", "kubeconfig", "config-merge", "values", "http-response", "plugin-report"])
    func corpusReplaysCleanly(target: String) throws {
        let corpus = Paths.packageRoot.appendingPathComponent("Fuzz/corpus/\(target)").path
        let seeds = try FileManager.default.contentsOfDirectory(atPath: corpus)
        #expect(!seeds.isEmpty, "no seeds for \(target)")
        let replay = try Command.run([Paths.built("fuzz-parsers"), target, corpus], timeout: 60)
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout == "\(target): \(seeds.count) inputs replayed\n")
    }

    @Test func anUnknownTargetIsAUsageError() throws {
        let replay = try Command.run([Paths.built("fuzz-parsers"), "nonsense", "/dev/null"])
        #expect(replay.status == 2 && replay.stderr.contains("usage: fuzz-parsers"))
    }
}
