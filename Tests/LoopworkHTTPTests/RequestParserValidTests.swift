import HTTPTypes
import LoopworkHTTP
import Testing

struct ValidCase: Sendable, CustomStringConvertible {
    let name: String
    let input: String
    let expected: [String]
    var description: String { name }
}

let validCases: [ValidCase] = [
    ValidCase(
        name: "short GET", input: "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        expected: [
            "GET / HTTP/1.1 authority=a path=/ keepAlive=true continue=false upgrade=- framing=none [Host: a] body= trailers=-"
        ]),
    ValidCase(
        name: "origin-form with query, OWS trimmed, case kept",
        input: "GET /p/q?x=1&y=%20 HTTP/1.1\r\nhost:  example.com:8080 \t\r\nX-Custom:\tv a l\r\nACCEPT: */*\r\n\r\n",
        expected: [
            "GET /p/q?x=1&y=%20 HTTP/1.1 authority=example.com:8080 path=/p/q?x=1&y=%20 keepAlive=true continue=false upgrade=- framing=none [host: example.com:8080 | X-Custom: v a l | ACCEPT: */*] body= trailers=-"
        ]),
    ValidCase(
        name: "repeated fields kept in order, empty value",
        input: "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\na: 3\r\nEmpty:\r\n\r\n",
        expected: [
            "GET / HTTP/1.1 authority=h path=/ keepAlive=true continue=false upgrade=- framing=none [Host: h | A: 1 | B: 2 | a: 3 | Empty: ] body= trailers=-"
        ]),
    ValidCase(
        name: "long values with tabs and obs-text",
        input:
            "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\tGecko/20100101 \r\nX-Long: 0123456789abcdef\u{E9}0123456789abcdef\t\r\n\r\n",
        expected: [
            "GET / HTTP/1.1 authority=h path=/ keepAlive=true continue=false upgrade=- framing=none [Host: h | User-Agent: Mozilla/5.0 (X11; Linux x86_64)\tGecko/20100101 | X-Long: 0123456789abcdef\u{E9}0123456789abcdef] body= trailers=-"
        ]),
    ValidCase(
        name: "HTTP/1.0 without Host closes",
        input: "GET /old HTTP/1.0\r\n\r\n",
        expected: [
            "GET /old HTTP/1.0 authority=- path=/old keepAlive=false continue=false upgrade=- framing=none [] body= trailers=-"
        ]),
    ValidCase(
        name: "HTTP/1.0 keep-alive",
        input: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
        expected: [
            "GET / HTTP/1.0 authority=- path=/ keepAlive=true continue=false upgrade=- framing=none [Connection: Keep-Alive] body= trailers=-"
        ]),
    ValidCase(
        name: "Connection: close in 1.1",
        input: "GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE\r\n\r\n",
        expected: [
            "GET / HTTP/1.1 authority=h path=/ keepAlive=false continue=false upgrade=- framing=none [Host: h | Connection: foo, CLOSE] body= trailers=-"
        ]),
    ValidCase(
        name: "POST with Content-Length",
        input:
            "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"a\":[1,2,3]}",
        expected: [
            "POST /submit HTTP/1.1 authority=h path=/submit keepAlive=true continue=false upgrade=- framing=length(13) [Host: h | Content-Type: application/json | Content-Length: 13] body={\"a\":[1,2,3]} trailers=-"
        ]),
    ValidCase(
        name: "repeated identical Content-Length",
        input: "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc",
        expected: [
            "PUT /x HTTP/1.1 authority=h path=/x keepAlive=true continue=false upgrade=- framing=length(3) [Host: h | Content-Length: 3 | content-length: 3] body=abc trailers=-"
        ]),
    ValidCase(
        name: "Content-Length zero",
        input: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
        expected: [
            "POST / HTTP/1.1 authority=h path=/ keepAlive=true continue=false upgrade=- framing=length(0) [Host: h | Content-Length: 0] body= trailers=-"
        ]),
    ValidCase(
        name: "chunked with extensions and trailers",
        input:
            "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;name=val;q=\"x y\"\r\nhello\r\nA ; ext\r\n, chunked!\r\n0\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n",
        expected: [
            "POST /up HTTP/1.1 authority=h path=/up keepAlive=true continue=false upgrade=- framing=chunked [Host: h | Transfer-Encoding: chunked] body=hello, chunked! trailers=X-Checksum: abc | X-More: 1"
        ]),
    ValidCase(
        name: "chunked, uppercase hex and leading zeros, no trailers",
        input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n00A\r\n0123456789\r\n000\r\n\r\n",
        expected: [
            "POST / HTTP/1.1 authority=h path=/ keepAlive=true continue=false upgrade=- framing=chunked [Host: h | Transfer-Encoding: Chunked] body=0123456789 trailers=-"
        ]),
    ValidCase(
        name: "absolute-form takes authority from the target",
        input: "GET http://example.org:81/a/b?c HTTP/1.1\r\nHost: other\r\n\r\n",
        expected: [
            "GET http://example.org:81/a/b?c HTTP/1.1 authority=example.org:81 path=/a/b?c keepAlive=true continue=false upgrade=- framing=none [Host: other] body= trailers=-"
        ]),
    ValidCase(
        name: "absolute-form without path",
        input: "GET https://example.org HTTP/1.1\r\nHost: example.org\r\n\r\n",
        expected: [
            "GET https://example.org HTTP/1.1 authority=example.org path=/ keepAlive=true continue=false upgrade=- framing=none [Host: example.org] body= trailers=-"
        ]),
    ValidCase(
        name: "authority-form CONNECT",
        input: "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n",
        expected: [
            "CONNECT example.org:443 HTTP/1.1 authority=example.org:443 path=example.org:443 keepAlive=true continue=false upgrade=- framing=none [Host: example.org:443] body= trailers=-"
        ]),
    ValidCase(
        name: "asterisk-form OPTIONS",
        input: "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
        expected: [
            "OPTIONS * HTTP/1.1 authority=h path=* keepAlive=true continue=false upgrade=- framing=none [Host: h] body= trailers=-"
        ]),
    ValidCase(
        name: "Expect: 100-continue surfaced",
        input: "PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok",
        expected: [
            "PUT /f HTTP/1.1 authority=h path=/f keepAlive=true continue=true upgrade=- framing=length(2) [Host: h | Expect: 100-Continue | Content-Length: 2] body=ok trailers=-"
        ]),
    // Found by the differential fuzzer: empty list members expect nothing (RFC 9110 §5.6.1.2).
    ValidCase(
        name: "Expect with empty members",
        input: "PUT /f HTTP/1.1\r\nHost: h\r\nExpect: , 100-continue,\r\nContent-Length: 0\r\n\r\n",
        expected: [
            "PUT /f HTTP/1.1 authority=h path=/f keepAlive=true continue=true upgrade=- framing=length(0) [Host: h | Expect: , 100-continue, | Content-Length: 0] body= trailers=-"
        ]),
    ValidCase(
        name: "empty Expect",
        input: "GET / HTTP/1.1\r\nHost: h\r\nExpect:\r\n\r\n",
        expected: [
            "GET / HTTP/1.1 authority=h path=/ keepAlive=true continue=false upgrade=- framing=none [Host: h | Expect: ] body= trailers=-"
        ]),
    ValidCase(
        name: "Upgrade surfaced",
        input: "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        expected: [
            "GET /ws HTTP/1.1 authority=h path=/ws keepAlive=true continue=false upgrade=websocket framing=none [Host: h | Connection: Upgrade | Upgrade: websocket] body= trailers=-"
        ]),
    ValidCase(
        name: "custom method, obs-text value, empty lines before request",
        input: "\r\n\r\nPURGE /c HTTP/1.1\r\nHost: h\r\nX-Latin: caf\u{E9}\r\n\r\n",
        expected: [
            "PURGE /c HTTP/1.1 authority=h path=/c keepAlive=true continue=false upgrade=- framing=none [Host: h | X-Latin: caf\u{E9}] body= trailers=-"
        ]),
    ValidCase(
        name: "pipelined requests in one buffer",
        input:
            "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcPOST /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\nGET /4 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        expected: [
            "GET /1 HTTP/1.1 authority=h path=/1 keepAlive=true continue=false upgrade=- framing=none [Host: h] body= trailers=-",
            "POST /2 HTTP/1.1 authority=h path=/2 keepAlive=true continue=false upgrade=- framing=length(3) [Host: h | Content-Length: 3] body=abc trailers=-",
            "POST /3 HTTP/1.1 authority=h path=/3 keepAlive=true continue=false upgrade=- framing=chunked [Host: h | Transfer-Encoding: chunked] body=z trailers=-",
            "GET /4 HTTP/1.1 authority=h path=/4 keepAlive=false continue=false upgrade=- framing=none [Host: h | Connection: close] body= trailers=-",
        ]),
]

@Suite struct RequestParserValidTests {
    @Test(arguments: validCases)
    func parsesWholeAndSplit(_ testCase: ValidCase) {
        let input = bytes(testCase.input)
        for cuts in splitStrategies(count: input.count) {
            let outcome = parse(input, cuts: cuts)
            #expect(outcome.error == nil, "cuts \(cuts): \(outcome)")
            #expect(outcome.messages == testCase.expected, "cuts \(cuts)")
            #expect(outcome.partial == nil)
        }
    }

    @Test func parserIsIdleBetweenMessagesAndInHeadDuringOne() throws {
        var parser = HTTPRequestParser()
        #expect(parser.isIdle && !parser.isInHead)
        try bytes("GET / HTTP/1.1\r\nHo").withUnsafeBytes { try parser.parse($0) { _ in } }
        #expect(!parser.isIdle && parser.isInHead)
        try bytes("st: h\r\n\r\n").withUnsafeBytes { try parser.parse($0) { _ in } }
        #expect(parser.isIdle && !parser.isInHead)
        try bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab").withUnsafeBytes {
            try parser.parse($0) { _ in }
        }
        #expect(!parser.isIdle && !parser.isInHead)
    }

    @Test func obsTextValueKeepsItsRawBytes() throws {
        var input = bytes("GET / HTTP/1.1\r\nHost: h\r\nX-Latin1: caf")
        input += [0xE9, 0x20, 0xFF] + bytes("\r\n\r\n")
        var parser = HTTPRequestParser()
        var raw: [UInt8] = []
        try input.withUnsafeBytes { buffer in
            try parser.parse(buffer) { event in
                if case .head(let head) = event, let field = head.request.headerFields.last {
                    field.withUnsafeBytesOfValue { raw = Array($0) }
                }
            }
        }
        #expect(raw == bytes("caf") + [0xE9, 0x20, 0xFF])
    }

    @Test func bodySlicesPointIntoTheInput() throws {
        var parser = HTTPRequestParser()
        let input = bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
        var sawSliceInInput = false
        try input.withUnsafeBytes { buffer in
            try parser.parse(buffer) { event in
                if case .body(let slice) = event, let base = slice.baseAddress, let start = buffer.baseAddress {
                    sawSliceInInput = base >= start && base + slice.count <= start + buffer.count
                }
            }
        }
        #expect(sawSliceInInput)
    }

    @Test func handlerErrorIsRethrownUnchangedAndStopsTheParser() {
        struct Stop: Error, Equatable {}
        var parser = HTTPRequestParser()
        let input = bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(throws: Stop.self) {
            try input.withUnsafeBytes { try parser.parse($0) { _ in throw Stop() } }
        }
        #expect(throws: HTTPParseError(.abortedByHandler)) {
            try input.withUnsafeBytes { try parser.parse($0) { _ in } }
        }
    }
}
