import JSON
import Testing

@Suite struct JSONParserTests {
    @Test func keepsMemberOrderAndNumberText() throws {
        let value = try JSONParser.parse(#"{"b":1,"a":[true,null,-0.5e3],"big":12345678901234567890}"#)
        #expect(value.objectValue?.keys == ["b", "a", "big"])
        #expect(value["big"] == .number("12345678901234567890"))
        #expect(value["a"]?.arrayValue?[2] == .number("-0.5e3"))
        #expect(JSONSerializer.serialize(value) == #"{"b":1,"a":[true,null,-0.5e3],"big":12345678901234567890}"#)
    }

    @Test func duplicateKeysKeepFirstPositionAndLastValue() throws {
        let value = try JSONParser.parse(#"{"x":1,"y":2,"x":3}"#)
        #expect(value.objectValue?.keys == ["x", "y"])
        #expect(value["x"]?.int64Value == 3)
    }

    @Test func decodesEscapesAndSurrogates() throws {
        let value = try JSONParser.parse(#"["a\"b\\c\/\n\t", "\u00e9\ud83d\ude00", "\ud800x"]"#)
        #expect(value.arrayValue?[0].stringValue == "a\"b\\c/\n\t")
        #expect(value.arrayValue?[1].stringValue == "é😀")
        #expect(value.arrayValue?[2].stringValue == "\u{FFFD}x")
    }

    @Test(arguments: [
        ("", "empty input"),
        (#"{"a":"#, "unexpected end of input"),
        (#"{"a":1} x"#, "unexpected data after the JSON value"),
        ("[1,]", "unexpected character ']'"),
        ("\"a\u{01}\"", "control character in string"),
        (#""\q""#, "invalid escape"),
        ("01", "unexpected data"),
        ("1.", "no digits after '.'"),
        ("tru", "invalid literal"),
        (#"{1:2}"#, "expected a string key"),
    ])
    func rejectsMalformedInput(text: String, fragment: String) {
        #expect {
            try JSONParser.parse(text)
        } throws: { error in
            (error as? JSONError)?.description.contains(fragment) == true
        }
    }

    @Test func boundsNestingDepth() {
        let deep = String(repeating: "[", count: JSONParser.maximumDepth + 1) + String(repeating: "]", count: JSONParser.maximumDepth + 1)
        #expect(throws: JSONError.self) { try JSONParser.parse(deep) }
        let allowed = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect((try? JSONParser.parse(allowed)) != nil)
    }

    @Test func serializerEscapesControlCharacters() throws {
        let text = JSONSerializer.serialize(.string("a\u{01}\"\\\n\u{7F}"))
        #expect(text == #""a\u0001\"\\\n\u007f""#)
        #expect(try JSONParser.parse(text) == .string("a\u{01}\"\\\n\u{7F}"))
    }

    @Test func prettyOutputParsesBack() throws {
        let value: JSONValue = .object(JSONObject([("list", [1, 2]), ("empty", .object(JSONObject())), ("s", "x")]))
        let pretty = JSONSerializer.serialize(value, pretty: true)
        #expect(pretty.contains("\n  \"list\": ["))
        #expect(try JSONParser.parse(pretty) == value)
    }
}
