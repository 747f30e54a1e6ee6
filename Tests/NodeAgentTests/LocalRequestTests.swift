@testable import NodeAgent
import Testing

/// The plugin socket's request reader: whole requests only, nonsense refused.
@Suite struct LocalRequestTests {
    @Test func readsGetAndPostOnceComplete() throws {
        let get = Array("GET /v1/pods/default/web?waitMilliseconds=500&uid=abc HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        #expect(try LocalRequest.parse(Array(get.dropLast(2))) == nil, "the head is not complete yet")
        let parsed = try #require(try LocalRequest.parse(get))
        #expect(parsed.method == "GET" && parsed.path == "/v1/pods/default/web")
        #expect(parsed.query == ["waitMilliseconds": "500", "uid": "abc"] && parsed.body.isEmpty)
        let post = Array("POST /v1/plugin-report HTTP/1.1\r\ncontent-length: 7\r\n\r\n{\"a\":1}".utf8)
        #expect(try LocalRequest.parse(Array(post.dropLast(1))) == nil, "the body is not complete yet")
        #expect(try LocalRequest.parse(post)?.body == Array("{\"a\":1}".utf8))
    }

    @Test(arguments: ["HELLO\r\n\r\n", "GET /x SPDY/3\r\n\r\n", "POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                      "POST /x HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", "POST /x HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
                      "POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                      "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                      "GET /x HTTP/1.1\r\nno colon\r\n\r\n", "GET /x HTTP/1.1\r\n: no name\r\n\r\n", "GET x HTTP/1.1\r\n\r\n",
                      "get /x HTTP/1.1\r\n\r\n", "GET /x  HTTP/1.1\r\n\r\n", "GET /\u{7F} HTTP/1.1\r\n\r\n"])
    func refusesNonsense(text: String) {
        #expect(throws: LocalRequestError.self) { try LocalRequest.parse(Array(text.utf8)) }
    }

    @Test func aHeadThatNeverEndsIsRefusedAtItsLimit() throws {
        let endless = Array("GET /x HTTP/1.1\r\nX: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: LocalRequest.maximumHeadBytes)
        #expect(throws: LocalRequestError.self) { try LocalRequest.parse(endless) }
        #expect(try LocalRequest.parse(Array(endless.prefix(LocalRequest.maximumHeadBytes))) == nil, "still within the limit: read on")
    }

    @Test func answersWithLengthAndClose() {
        let bytes = LocalRequest.response(AgentAnswer(status: 204, ""))
        #expect(String(decoding: bytes, as: UTF8.self) == "HTTP/1.1 204 No Content\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }
}
