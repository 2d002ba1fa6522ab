import HTTPTypes
import LoopworkHTTP
import Testing

struct InvalidCase: Sendable, CustomStringConvertible {
    let name: String
    let input: String
    /// The failure the parser reports; `status` is what its code answers with, spelled out for the reader.
    let code: HTTPParseError.Code
    let status: Int
    var description: String { name }
}

let invalidCases: [InvalidCase] = [
    InvalidCase(
        name: "CL and TE",
        input: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        code: .contentLengthWithTransferEncoding, status: 400),
    InvalidCase(
        name: "TE then CL",
        input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        code: .contentLengthWithTransferEncoding, status: 400),
    InvalidCase(
        name: "TE not ending in chunked",
        input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", code: .chunkedNotFinal,
        status: 400),
    InvalidCase(
        name: "TE gzip only", input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
        code: .transferEncodingNotEndingInChunked, status: 400),
    InvalidCase(
        name: "TE chunked twice",
        input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        code: .chunkedNotFinal, status: 400),
    InvalidCase(
        name: "TE unknown coding before chunked",
        input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        code: .unsupportedTransferCoding, status: 501),
    InvalidCase(
        name: "TE in HTTP/1.0", input: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        code: .transferEncodingInHTTP1_0, status: 400),
    InvalidCase(
        name: "TE empty", input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n",
        code: .transferEncodingNotEndingInChunked, status: 400),
    InvalidCase(
        name: "differing Content-Length",
        input: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        code: .conflictingContentLength, status: 400),
    // Found by the differential fuzzer: past the body limit the values were compared cut short (413).
    InvalidCase(
        name: "differing Content-Length past the limit",
        input: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 90000000\r\nContent-Length: 90000001\r\n\r\n",
        code: .conflictingContentLength, status: 400),
    InvalidCase(
        name: "differing Content-Length past Int",
        input:
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\nContent-Length: 99999999999999999998\r\n\r\n",
        code: .conflictingContentLength, status: 400),
    InvalidCase(
        name: "equal Content-Length past Int",
        input:
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\nContent-Length: 099999999999999999999\r\n\r\n",
        code: .bodyTooLarge, status: 413),
    InvalidCase(
        name: "Expect other beside 100-continue",
        input: "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue, 200-ok\r\nContent-Length: 0\r\n\r\n",
        code: .unsupportedExpectation, status: 417),
    InvalidCase(
        name: "Content-Length list", input: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc",
        code: .invalidContentLength, status: 400),
    InvalidCase(
        name: "Content-Length sign", input: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc",
        code: .invalidContentLength, status: 400),
    InvalidCase(
        name: "Content-Length hex", input: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x3\r\n\r\nabc",
        code: .invalidContentLength, status: 400),
    InvalidCase(
        name: "Content-Length empty", input: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n",
        code: .invalidContentLength, status: 400),
    InvalidCase(
        name: "Content-Length overflow",
        input: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999999\r\n\r\n", code: .bodyTooLarge,
        status: 413),
    InvalidCase(
        name: "obs-fold", input: "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  b\r\n\r\n", code: .obsoleteLineFolding,
        status: 400),
    InvalidCase(
        name: "whitespace before colon", input: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", code: .whitespaceBeforeColon,
        status: 400),
    InvalidCase(
        name: "tab before colon", input: "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", code: .whitespaceBeforeColon,
        status: 400),
    InvalidCase(
        name: "bare CR in value", input: "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", code: .bareCRInFieldValue,
        status: 400),
    InvalidCase(
        name: "bare LF line end", input: "GET / HTTP/1.1\r\nHost: h\nX: a\r\n\r\n", code: .lineNotTerminatedByCRLF,
        status: 400),
    InvalidCase(
        name: "bare LF request line", input: "GET / HTTP/1.1\nHost: h\r\n\r\n", code: .lineNotTerminatedByCRLF,
        status: 400),
    InvalidCase(
        name: "NUL in value", input: "GET / HTTP/1.1\r\nHost: h\r\nX: a\u{0}b\r\n\r\n",
        code: .invalidFieldValueCharacter, status: 400),
    InvalidCase(
        name: "DEL in value", input: "GET / HTTP/1.1\r\nHost: h\r\nX: a\u{7F}b\r\n\r\n",
        code: .invalidFieldValueCharacter, status: 400),
    InvalidCase(
        name: "control char in value", input: "GET / HTTP/1.1\r\nHost: h\r\nX: a\u{1}b\r\n\r\n",
        code: .invalidFieldValueCharacter, status: 400),
    InvalidCase(
        name: "NUL deep in a long value",
        input: "GET / HTTP/1.1\r\nHost: h\r\nX: 0123456789abcdef0123\u{0}456789\r\n\r\n",
        code: .invalidFieldValueCharacter, status: 400),
    InvalidCase(
        name: "DEL deep in a long value",
        input: "GET / HTTP/1.1\r\nHost: h\r\nX: 0123456789abcdef01234\u{7F}56789\r\n\r\n",
        code: .invalidFieldValueCharacter, status: 400),
    InvalidCase(
        name: "bare CR deep in a long value",
        input: "GET / HTTP/1.1\r\nHost: h\r\nX: 0123456789abcdef012345\r6789abcdef\r\n\r\n", code: .bareCRInFieldValue,
        status: 400),
    InvalidCase(
        name: "vertical tab in a long value",
        input: "GET / HTTP/1.1\r\nHost: h\r\nX: 0123456789abcdef\u{B}0123456789abcdef\r\n\r\n",
        code: .invalidFieldValueCharacter, status: 400),
    InvalidCase(
        name: "invalid name char", input: "GET / HTTP/1.1\r\nHost: h\r\nX(y): a\r\n\r\n",
        code: .invalidFieldNameCharacter, status: 400),
    InvalidCase(
        name: "empty name", input: "GET / HTTP/1.1\r\nHost: h\r\n: a\r\n\r\n", code: .emptyFieldName, status: 400),
    InvalidCase(
        name: "no colon", input: "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", code: .fieldLineWithoutColon,
        status: 400),
    InvalidCase(name: "missing Host in 1.1", input: "GET / HTTP/1.1\r\nX: y\r\n\r\n", code: .missingHost, status: 400),
    InvalidCase(
        name: "missing Host in absolute-form 1.1", input: "GET http://a/ HTTP/1.1\r\n\r\n", code: .missingHost,
        status: 400),
    InvalidCase(
        name: "repeated Host", input: "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", code: .repeatedHost, status: 400),
    InvalidCase(name: "Host with path", input: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", code: .invalidHost, status: 400),
    InvalidCase(
        name: "Host with userinfo", input: "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", code: .invalidHost, status: 400),
    InvalidCase(
        name: "HTTP/2.0", input: "GET / HTTP/2.0\r\nHost: h\r\n\r\n", code: .unsupportedHTTPVersion, status: 505),
    InvalidCase(
        name: "HTTP/1.2", input: "GET / HTTP/1.2\r\nHost: h\r\n\r\n", code: .unsupportedHTTPVersion, status: 505),
    InvalidCase(name: "HTTP/0.9 style", input: "GET /\r\n\r\n", code: .invalidRequestTarget, status: 400),
    InvalidCase(
        name: "lowercase http", input: "GET / http/1.1\r\nHost: h\r\n\r\n", code: .malformedHTTPVersion, status: 400),
    InvalidCase(
        name: "version with extra", input: "GET / HTTP/1.11\r\nHost: h\r\n\r\n", code: .malformedRequestLine,
        status: 400),
    InvalidCase(
        name: "two spaces", input: "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", code: .invalidRequestTarget, status: 400),
    InvalidCase(
        name: "trailing space", input: "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", code: .malformedRequestLine, status: 400),
    InvalidCase(
        name: "tab separator", input: "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", code: .malformedRequestLine, status: 400),
    InvalidCase(
        name: "invalid method char", input: "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", code: .malformedRequestLine,
        status: 400),
    InvalidCase(
        name: "fragment in target", input: "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", code: .invalidRequestTarget,
        status: 400),
    InvalidCase(
        name: "obs-text in target", input: "GET /caf\u{E9} HTTP/1.1\r\nHost: h\r\n\r\n", code: .invalidRequestTarget,
        status: 400),
    InvalidCase(
        name: "relative target", input: "GET foo HTTP/1.1\r\nHost: h\r\n\r\n", code: .invalidRequestTarget, status: 400),
    InvalidCase(
        name: "asterisk with GET", input: "GET * HTTP/1.1\r\nHost: h\r\n\r\n", code: .asteriskFormRequiresOptions,
        status: 400),
    InvalidCase(
        name: "CONNECT origin-form", input: "CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n",
        code: .connectRequiresAuthorityForm, status: 400),
    InvalidCase(
        name: "CONNECT without port", input: "CONNECT example.org HTTP/1.1\r\nHost: h\r\n\r\n",
        code: .connectRequiresAuthorityForm, status: 400),
    InvalidCase(
        name: "absolute-form without authority", input: "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n",
        code: .invalidRequestTarget, status: 400),
    InvalidCase(
        name: "Expect other", input: "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\nContent-Length: 0\r\n\r\n",
        code: .unsupportedExpectation, status: 417),
    InvalidCase(
        name: "chunk size not hex", input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        code: .invalidChunkSize, status: 400),
    InvalidCase(
        name: "chunk size empty", input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
        code: .invalidChunkSize, status: 400),
    InvalidCase(
        name: "chunk size overflow",
        input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n",
        code: .bodyTooLarge, status: 413),
    InvalidCase(
        name: "chunk data without CRLF",
        input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
        code: .chunkDataNotFollowedByCRLF, status: 400),
    InvalidCase(
        name: "chunk size bare LF", input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n",
        code: .invalidChunkSize, status: 400),
    InvalidCase(
        name: "chunk size then space then CR",
        input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n",
        code: .invalidChunkExtension, status: 400),
    InvalidCase(
        name: "control char in chunk extension",
        input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;a\u{1}\r\nabc\r\n",
        code: .invalidChunkExtension, status: 400),
    InvalidCase(
        name: "bad trailer",
        input: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Name: x\r\n\r\n",
        code: .whitespaceBeforeColon, status: 400),
    InvalidCase(
        name: "garbage after pipelined request", input: "GET / HTTP/1.1\r\nHost: h\r\n\r\n\u{1}\r\n\r\n",
        code: .malformedRequestLine, status: 400),
]

@Suite struct RequestParserInvalidTests {
    @Test(arguments: invalidCases)
    func rejectsWithCodeAndStatus(_ testCase: InvalidCase) {
        let input = bytes(testCase.input)
        for cuts in [[], Array(0...input.count)] + splitStrategies(count: input.count).suffix(5) {
            let outcome = parse(input, cuts: cuts)
            #expect(outcome.error?.code == testCase.code, "cuts \(cuts): \(outcome)")
            #expect(outcome.error?.status.code == testCase.status, "cuts \(cuts): \(outcome)")
            #expect(outcome.error.map { !$0.reason.isEmpty } ?? false)
        }
    }

    @Test func errorIsStickyAndLaterInputRefused() throws {
        var parser = HTTPRequestParser()
        var first: HTTPParseError?
        do {
            try bytes("GET / HTTP/9.9\r\nHost: h\r\n\r\n").withUnsafeBytes { try parser.parse($0) { _ in } }
        } catch let error as HTTPParseError {
            first = error
        }
        #expect(first?.code == .unsupportedHTTPVersion)
        var second: HTTPParseError?
        do {
            try bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n").withUnsafeBytes { try parser.parse($0) { _ in } }
        } catch let error as HTTPParseError {
            second = error
        }
        #expect(second == first)
        #expect(!parser.isIdle)
    }

    @Test func eventsBeforeTheErrorAreDelivered() {
        let outcome = parse(bytes("GET /ok HTTP/1.1\r\nHost: h\r\n\r\nGET /bad HTTP/1.1\r\n\r\n"))
        #expect(outcome.messages.count == 1)
        #expect(outcome.error?.code == .missingHost)
    }
}
