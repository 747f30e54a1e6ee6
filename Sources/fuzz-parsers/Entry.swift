#if FUZZING
import CFuzzDriver
import Glibc

/// libFuzzer's driver (built by `scripts/fuzz.sh` with `-sanitize=fuzzer,address -DFUZZING`); the
/// target comes from `FUZZ_TARGET`.
@main
struct Fuzz {
    static func main() {
        guard let name = getenv("FUZZ_TARGET").map({ String(cString: $0) }), FuzzTarget(rawValue: name) != nil else {
            print("FUZZ_TARGET must be one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
            exit(2)
        }
        exit(cfuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
            let target = FuzzTarget(rawValue: String(cString: getenv("FUZZ_TARGET")))!
            target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            return 0
        })
    }
}
#else
import Foundation

/// Without the fuzzer: `fuzz-parsers TARGET FILE|DIR...` runs every input once, so the checked-in
/// corpora and any crash file replay in an ordinary build (the tests do this).
@main
struct Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("usage: fuzz-parsers {\(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|"))} FILE|DIR...\n".utf8))
            exit(2)
        }
        var count = 0
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            let files = isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                target.run(Array(data))
                count += 1
            }
        }
        print("\(name): \(count) inputs replayed")
    }
}
#endif
