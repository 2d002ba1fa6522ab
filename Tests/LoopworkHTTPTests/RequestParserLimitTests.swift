import HTTPTypes
import LoopworkHTTP
import Testing

/// Every limit is checked at N-1 and N (accepted) and N+1 (refused with its code), whole and byte by byte.
@Suite struct RequestParserLimitTests {
    func check(
        _ input: [UInt8], limits: HTTPParserLimits, refusedWith code: HTTPParseError.Code?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for cuts in [[], Array(0...input.count)] {
            let outcome = parse(input, cuts: cuts, limits: limits)
            if let code {
                #expect(outcome.error?.code == code, "\(outcome)", sourceLocation: sourceLocation)
            } else {
                #expect(outcome.error == nil, "\(outcome)", sourceLocation: sourceLocation)
                #expect(outcome.messages.count == 1, sourceLocation: sourceLocation)
            }
        }
    }

    @Test(arguments: [-1, 0, 1])
    func requestLineLength(delta: Int) {
        let limit = 64
        // "GET /" + padding + " HTTP/1.1" has exactly limit + delta bytes before CRLF.
        let padding = String(repeating: "a", count: limit + delta - 14)
        let input = bytes("GET /\(padding) HTTP/1.1\r\nHost: h\r\n\r\n")
        check(
            input, limits: HTTPParserLimits(maxRequestLineLength: limit),
            refusedWith: delta > 0 ? .requestLineTooLong : nil)
    }

    @Test func requestLineWithoutEndIsRefusedOnceTooLong() {
        let input = bytes("GET /" + String(repeating: "a", count: 100))
        let outcome = parse(input, limits: HTTPParserLimits(maxRequestLineLength: 64))
        #expect(outcome.error?.code == .requestLineTooLong)
    }

    @Test(arguments: [-1, 0, 1])
    func headerSectionSize(delta: Int) {
        let limit = 100
        // Field lines with their CRLFs: "Host: h\r\n" (9) + "X: " + value + "\r\n".
        let value = String(repeating: "v", count: limit + delta - 9 - 5)
        let input = bytes("GET / HTTP/1.1\r\nHost: h\r\nX: \(value)\r\n\r\n")
        check(
            input, limits: HTTPParserLimits(maxHeaderSectionSize: limit),
            refusedWith: delta > 0 ? .headerSectionTooLarge : nil)
    }

    @Test func unterminatedHeaderSectionIsRefusedOnceTooLarge() {
        let input = bytes("GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "v", count: 200))
        let outcome = parse(input, limits: HTTPParserLimits(maxHeaderSectionSize: 100))
        #expect(outcome.error?.code == .headerSectionTooLarge)
    }

    @Test(arguments: [-1, 0, 1])
    func fieldCount(delta: Int) {
        let limit = 10
        let fields = (0..<(limit + delta - 1)).map { "F\($0): x\r\n" }.joined()
        let input = bytes("GET / HTTP/1.1\r\nHost: h\r\n\(fields)\r\n")
        check(input, limits: HTTPParserLimits(maxFieldCount: limit), refusedWith: delta > 0 ? .tooManyFields : nil)
    }

    @Test(arguments: [-1, 0, 1])
    func contentLengthBodySize(delta: Int) {
        let limit = 32
        let body = String(repeating: "b", count: limit + delta)
        let input = bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        check(input, limits: HTTPParserLimits(maxBodySize: limit), refusedWith: delta > 0 ? .bodyTooLarge : nil)
    }

    @Test(arguments: [-1, 0, 1])
    func chunkedBodySize(delta: Int) {
        let limit = 32
        // Two chunks so the total, not one chunk, crosses the limit.
        let first = String(repeating: "a", count: 16)
        let second = String(repeating: "b", count: limit + delta - 16)
        let body = "10\r\n\(first)\r\n\(String(second.utf8.count, radix: 16))\r\n\(second)\r\n0\r\n\r\n"
        let input = bytes("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\(body)")
        check(input, limits: HTTPParserLimits(maxBodySize: limit), refusedWith: delta > 0 ? .bodyTooLarge : nil)
    }

    @Test(arguments: [-1, 0, 1])
    func chunkExtensionLength(delta: Int) {
        let limit = 16
        let ext = ";" + String(repeating: "e", count: limit + delta - 1)
        let input = bytes("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\(ext)\r\nz\r\n0\r\n\r\n")
        check(
            input, limits: HTTPParserLimits(maxChunkExtensionLength: limit),
            refusedWith: delta > 0 ? .chunkExtensionTooLong : nil)
    }

    /// The answers the limits promise in their documentation.
    @Test func limitCodesAnswerTheirStatus() {
        #expect(HTTPParseError.Code.requestLineTooLong.status.code == 414)
        #expect(HTTPParseError.Code.headerSectionTooLarge.status.code == 431)
        #expect(HTTPParseError.Code.tooManyFields.status.code == 431)
        #expect(HTTPParseError.Code.bodyTooLarge.status.code == 413)
        #expect(HTTPParseError.Code.chunkExtensionTooLong.status.code == 400)
    }

    /// Without a body limit (a server that bounds bodies itself passes `Int.max`) a huge chunk size still fails.
    @Test func chunkSizeBeyondIntIsRefusedWithoutABodyLimit() {
        let input = bytes(
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "F", count: 16))
        for cuts in [[], Array(0...input.count)] {
            let outcome = parse(input, cuts: cuts, limits: HTTPParserLimits(maxBodySize: .max))
            #expect(outcome.error?.code == .chunkSizeOverflow, "\(outcome)")
        }
    }

    @Test func defaultsMatchTheIssue() {
        let limits = HTTPParserLimits.default
        #expect(limits.maxRequestLineLength == 8192)
        #expect(limits.maxHeaderSectionSize == 16384)
        #expect(limits.maxFieldCount == 100)
        #expect(limits.maxBodySize == 8 * 1024 * 1024)
        #expect(limits.maxChunkExtensionLength == 1024)
    }
}
