import HTTPTypes
import LoopworkHTTP
import Testing

/// A chunked request with body `hello` whose trailer section is `trailerLines` (each line without CRLF).
private func chunkedRequest(trailerLines: [String]) -> String {
    "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
        + trailerLines.map { $0 + "\r\n" }.joined() + "\r\n"
}

private let headDescription =
    "POST /up HTTP/1.1 authority=h path=/up keepAlive=true continue=false upgrade=- framing=chunked "
    + "[Host: h | Transfer-Encoding: chunked] body=hello"

/// Every name RFC 9110 §6.5.1 keeps out of trailers that the parser discards, in its usual spelling.
private let forbiddenNames = [
    "Content-Length", "Transfer-Encoding", "Host", "Content-Type", "Content-Encoding", "Content-Range", "Trailer",
    "TE", "Connection", "Keep-Alive", "Upgrade", "Expect", "Authorization", "Proxy-Authorization", "Cookie",
    "Set-Cookie", "Cache-Control", "Max-Forwards", "Range", "If-Match", "If-None-Match", "If-Modified-Since",
    "If-Unmodified-Since", "If-Range",
]

/// The usual spelling, lowercase, uppercase and a mixed case that matches no interned spelling.
private func spellings(of name: String) -> [String] {
    let mixed = name.enumerated()
        .map { $0.offset.isMultiple(of: 2) ? $0.element.lowercased() : $0.element.uppercased() }
        .joined()
    return Array(Set([name, name.lowercased(), name.uppercased(), mixed])).sorted()
}

/// Each input is fed whole, byte by byte, split at every offset and in random pieces (``splitStrategies``).
///
/// RFC 9112 §7.1.2 lets a recipient discard trailer fields; the parser drops those RFC 9110 §6.5.1 keeps out of
/// trailers, so they never reach a consumer, and names them so the server can log it.
@Suite struct RequestParserTrailerTests {
    @Test(arguments: forbiddenNames)
    func forbiddenTrailerIsDiscardedInAnySpelling(_ name: String) {
        for spelling in spellings(of: name) {
            let input = bytes(chunkedRequest(trailerLines: ["X-Checksum: abc", "\(spelling): 1"]))
            let expected = ["\(headDescription) trailers=X-Checksum: abc discarded=\(spelling)"]
            for cuts in splitStrategies(count: input.count) {
                let outcome = parse(input, cuts: cuts)
                let discarded = outcome.error == nil && outcome.messages == expected && outcome.partial == nil
                #expect(discarded, "\(spelling), cuts \(cuts): \(outcome)")
                // One issue per spelling is enough to see what went wrong; every split would repeat it.
                if !discarded { break }
            }
        }
    }

    @Test func onlyForbiddenTrailersLeaveNoTrailers() {
        let input = bytes(chunkedRequest(trailerLines: ["Content-Length:", "Host: evil"]))
        let expected = ["\(headDescription) trailers=- discarded=Content-Length | Host"]
        for cuts in splitStrategies(count: input.count) {
            let outcome = parse(input, cuts: cuts)
            #expect(outcome.error == nil && outcome.messages == expected, "cuts \(cuts): \(outcome)")
        }
    }

    @Test func discardedNamesKeepWireOrderAndRepeats() {
        let lines = ["X-A: 1", "cookie: a=b", "Host: evil", "X-B: 2", "Content-Length: 9", "Cookie: c=d", "X-A: 3"]
        let input = bytes(chunkedRequest(trailerLines: lines))
        let expected = [
            "\(headDescription) trailers=X-A: 1 | X-B: 2 | X-A: 3 discarded=cookie | Host | Content-Length | Cookie"
        ]
        for cuts in splitStrategies(count: input.count) {
            let outcome = parse(input, cuts: cuts)
            #expect(outcome.error == nil && outcome.messages == expected, "cuts \(cuts): \(outcome)")
        }
    }

    @Test func allowedTrailersAreStillDelivered() {
        // Names that merely contain or extend a forbidden one are ordinary fields.
        let lines = ["X-Checksum: abc", "Server-Timing: db;dur=53", "X-Content-Length: 5", "Hosts: a", "If-Foo: 1"]
        let input = bytes(chunkedRequest(trailerLines: lines))
        let expected = ["\(headDescription) trailers=\(lines.joined(separator: " | "))"]
        for cuts in splitStrategies(count: input.count) {
            let outcome = parse(input, cuts: cuts)
            #expect(outcome.error == nil, "cuts \(cuts): \(outcome)")
            #expect(outcome.messages == expected, "cuts \(cuts)")
            #expect(outcome.partial == nil)
        }
    }

    @Test func emptyTrailerSectionStillEndsWithoutTrailers() {
        let input = bytes(chunkedRequest(trailerLines: []))
        for cuts in splitStrategies(count: input.count) {
            #expect(parse(input, cuts: cuts).messages == ["\(headDescription) trailers=-"], "cuts \(cuts)")
        }
    }

    @Test func aDiscardedTrailerChangesNeitherTheHeadNorTheNextRequest() {
        // A trailer Content-Length or Transfer-Encoding must not reframe anything: the pipelined request after it
        // is parsed from the bytes that follow the trailer section, exactly as without it.
        let input = bytes(
            chunkedRequest(trailerLines: ["X-Checksum: abc"])
                + chunkedRequest(trailerLines: ["Transfer-Encoding: chunked", "Content-Length: 99"])
                + "GET /after HTTP/1.1\r\nHost: h\r\n\r\n")
        let expected = [
            "\(headDescription) trailers=X-Checksum: abc",
            "\(headDescription) trailers=- discarded=Transfer-Encoding | Content-Length",
            "GET /after HTTP/1.1 authority=h path=/after keepAlive=true continue=false upgrade=- framing=none "
                + "[Host: h] body= trailers=-",
        ]
        for cuts in splitStrategies(count: input.count) {
            let outcome = parse(input, cuts: cuts)
            #expect(outcome.error == nil && outcome.messages == expected, "cuts \(cuts): \(outcome)")
        }
    }

    @Test func discardedFieldsReachNoConsumerAsFields() throws {
        var parser = HTTPRequestParser()
        var trailerNames: [String] = []
        var headNames: [String] = []
        var discarded: [HTTPField.Name] = []
        let input = bytes(chunkedRequest(trailerLines: ["Authorization: Basic eA==", "X-Ok: 1"]))
        try input.withUnsafeBytes { buffer in
            try parser.parse(buffer) { event in
                switch event {
                case .head(let head): headNames = head.request.headerFields.map(\.name.canonicalName)
                case .body: break
                case .end(let trailers, let names):
                    trailerNames = trailers?.map(\.name.canonicalName) ?? []
                    discarded = names
                }
            }
        }
        #expect(headNames == ["host", "transfer-encoding"])
        #expect(trailerNames == ["x-ok"])
        #expect(discarded == [.authorization])
        #expect(parser.isIdle)
    }
}
