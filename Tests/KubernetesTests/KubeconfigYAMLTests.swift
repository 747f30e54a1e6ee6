import JSON
@testable import Kubernetes
import Testing

@Suite struct KubeconfigYAMLTests {
    @Test func blockAndFlowStructures() throws {
        let value = try KubeconfigYAML.parse("""
        # comment
        ---
        top: value with spaces   # trailing comment
        quoted: "a # not a comment \\u00e9"
        single: 'it''s'
        number: 6443
        flag: true
        nothing: ~
        empty: {}
        list: [a, "b c", 3, {k: 'v, w'}, []]
        nested:
          key: v
          deeper:
            - x
            -
              y: 1
        sequence:
        - one
        - two: 2
          three: 3
        long: abc
          def
        """)
        #expect(value["top"] == "value with spaces")
        #expect(value["quoted"] == "a # not a comment é")
        #expect(value["single"] == "it's")
        #expect(value["number"] == .number("6443"))
        #expect(value["flag"] == true)
        #expect(value["nothing"] == .null)
        #expect(value["empty"] == .object(JSONObject()))
        #expect(value["list"] == ["a", "b c", .number("3"), .object(JSONObject([("k", "v, w")])), []])
        #expect(value["nested"]?["deeper"]?.arrayValue?[1]["y"] == .number("1"))
        #expect(value["sequence"]?.arrayValue?[1]["three"] == .number("3"))
        #expect(value["long"] == "abc def")
    }

    @Test(arguments: [
        ("a: |\n  text", "'|'"),
        ("a: !!str x", "'!'"),
        ("a: *ref", "'*'"),
        ("a: [b, [c]", "unterminated flow collection"),
        ("a: \"unterminated", "unterminated"),
        ("a: 1\n  b: 2\n c: 3", "line 2: unexpected indentation"),
    ])
    func rejectsWhatKubeconfigsDoNotUse(text: String, fragment: String) {
        #expect {
            try KubeconfigYAML.parse(text)
        } throws: { error in
            (error as? KubernetesError)?.message.contains(fragment) == true
        }
    }
}
