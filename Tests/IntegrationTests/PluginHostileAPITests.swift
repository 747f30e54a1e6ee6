import Foundation
import KubeEmulator
import Testing
import TestSupport

/// An API server (or whatever answers at its address) sending numbers and lengths meant to hurt: the
/// ADD fails with a CNI error naming the bad value, nothing is programmed, and the plugin's memory stays
/// bounded however much the server announces or sends.
@Suite struct PluginHostileAPITests {
    struct Answer: Sendable, CustomStringConvertible {
        let description: String
        let fault: APIFault
        let reason: String

        static func raw(_ label: String, _ text: String, filler: Int = 0, reason: String) -> Answer {
            Answer(description: label, fault: .rawAnswer(Array(text.utf8), fillerBytes: filler), reason: reason)
        }
    }

    static let answers: [Answer] = [
        Answer(description: "Retry-After: 2^63-1", fault: .status(429, retryAfterSeconds: Int.max),
               reason: "asked to retry after 86400 s, past the lookup bound"),
        .raw("chunk size 2^63-1", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\n",
             reason: "chunk size \"7fffffffffffffff\" is larger than the 2097152 bytes"),
        .raw("a 40 MB chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2625a00\r\n", filler: 40_000_000,
             reason: "chunk size \"2625a00\" is larger than the 2097152 bytes"),
        .raw("Content-Length 2^63-1", "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n", filler: 4 << 20,
             reason: "Content-Length \"9223372036854775807\" is larger than the 2097152 bytes"),
        .raw("a header that never ends", "HTTP/1.1 200 OK\r\nX-Padding: ", filler: 4 << 20,
             reason: "the response headers are longer than 65536 bytes"),
        .raw("8 MiB until close", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", filler: 8 << 20,
             reason: "response body is larger than 2097152 bytes"),
        .raw("a signed Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: +12\r\n\r\n{\"kind\":\"Pod\"}",
             reason: "Content-Length \"+12\" is not a length"),
    ]

    @Test(arguments: answers)
    func hostileAnswersFailTheADDWithBoundedMemory(answer: Answer) throws {
        let harness = try PluginHarness()
        try harness.addPod(PodFixtures.meshPod(name: "web"))
        let namespace = try TestNamespace("hostile")
        harness.emulator.injectFault(answer.fault, count: nil)
        let add = try harness.run("ADD", netns: namespace.path, config: harness.config(extra: [("pod_lookup_timeout_seconds", .number("2"))]),
                                  wrapper: ["/usr/bin/time", "-f", "peak RSS %M KiB"])
        #expect(add.status == 1 && add.errorCode == 11, "exit \(add.status): \(add.stdout) \(add.stderr)")
        #expect(add.errorMessage.contains("default/web") && add.errorMessage.contains(answer.reason), "\(add.errorMessage)")
        #expect(try Capture.holdsNoRules(namespace))
        let peak = add.stderr.split(separator: "\n").last { $0.hasPrefix("peak RSS ") }
            .flatMap { Int($0.dropFirst("peak RSS ".count).prefix { $0.isNumber }) }
        let kibibytes = try #require(peak, "GNU time printed no peak: \(add.stderr)")
        #expect(kibibytes < 64 * 1024, "peak RSS \(kibibytes) KiB")
        print("hostile API answer \(answer): plugin peak RSS \(kibibytes) KiB")
    }
}
