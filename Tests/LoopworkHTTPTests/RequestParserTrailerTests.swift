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

/// Every name RFC 9110 §6.5.1 keeps out of trailers that the parser refuses, in its usual spelling.
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
@Suite struct RequestParserTrailerTests {
    @Test(arguments: forbiddenNames)
    func forbiddenTrailerIsRefusedInAnySpelling(_ name: String) {
        let expected = HTTPParseError(
            status: .badRequest, reason: "forbidden field \"\(name.lowercased())\" in chunked trailer")
        for spelling in spellings(of: name) {
            let input = bytes(chunkedRequest(trailerLines: ["X-Checksum: abc", "\(spelling): 1"]))
            for cuts in splitStrategies(count: input.count) {
                let outcome = parse(input, cuts: cuts)
                // The head and body were already delivered; the message never ends, so no trailer reaches a consumer.
                let refused = outcome.error == expected && outcome.messages.isEmpty && outcome.partial != nil
                #expect(refused, "\(spelling), cuts \(cuts): \(outcome)")
                // One issue per spelling is enough to see what went wrong; every split would repeat it.
                if !refused { break }
            }
        }
    }

    @Test func emptyValueDoesNotMakeAForbiddenTrailerAcceptable() {
        let input = bytes(chunkedRequest(trailerLines: ["Content-Length:"]))
        for cuts in splitStrategies(count: input.count) {
            #expect(parse(input, cuts: cuts).error?.reason == "forbidden field \"content-length\" in chunked trailer")
        }
    }

    @Test func firstForbiddenTrailerInWireOrderIsNamed() {
        let input = bytes(chunkedRequest(trailerLines: ["X-A: 1", "cookie: a=b", "Host: evil", "Content-Length: 9"]))
        for cuts in splitStrategies(count: input.count) {
            #expect(parse(input, cuts: cuts).error?.reason == "forbidden field \"cookie\" in chunked trailer")
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

    @Test func pipelinedRequestsBeforeTheRefusedOneAreDeliveredAndNoneAfter() {
        let input = bytes(
            chunkedRequest(trailerLines: ["X-Checksum: abc"])
                + chunkedRequest(trailerLines: ["Transfer-Encoding: chunked"])
                + "GET /after HTTP/1.1\r\nHost: h\r\n\r\n")
        for cuts in splitStrategies(count: input.count) {
            let outcome = parse(input, cuts: cuts)
            #expect(outcome.messages == ["\(headDescription) trailers=X-Checksum: abc"], "cuts \(cuts)")
            #expect(outcome.error?.reason == "forbidden field \"transfer-encoding\" in chunked trailer")
        }
    }

    @Test func refusalIsStickyAcrossCalls() throws {
        var parser = HTTPRequestParser()
        var errors: [HTTPParseError] = []
        for text in [chunkedRequest(trailerLines: ["Authorization: Basic eA=="]), "GET / HTTP/1.1\r\nHost: h\r\n\r\n"] {
            do {
                try bytes(text).withUnsafeBytes { try parser.parse($0) { _ in } }
            } catch let error as HTTPParseError {
                errors.append(error)
            }
        }
        let expected = HTTPParseError(
            status: .badRequest, reason: "forbidden field \"authorization\" in chunked trailer")
        #expect(errors == [expected, expected])
    }
}
