import LoopworkHTTP
import Testing

@testable import Loopwork

/// A request past one limit of the app's limits that the parser enforces, and what it is answered.
struct ParserLimitCase: Sendable, CustomStringConvertible {
    let name: String
    let limits: HTTPParserLimits
    let request: String
    let answer: String
    let reason: String
    var description: String { name }
}

private func chunkedUpload(target: String = "/up", fields: String = "", ext: String = "") -> String {
    "POST \(target) HTTP/1.1\r\nHost: x\r\n\(fields)Transfer-Encoding: chunked\r\n\r\n3\(ext)\r\nabc\r\n0\r\n\r\n"
}

private let parserLimitCases = [
    ParserLimitCase(
        name: "request line", limits: HTTPParserLimits(maxRequestLineLength: 32),
        request: chunkedUpload(target: "/up?" + String(repeating: "a", count: 30)),
        answer: "HTTP/1.1 414", reason: "request line too long"),
    ParserLimitCase(
        name: "header section", limits: HTTPParserLimits(maxHeaderSectionSize: 48),
        request: chunkedUpload(fields: "X-Pad: " + String(repeating: "p", count: 30) + "\r\n"),
        answer: "HTTP/1.1 431", reason: "header section too large"),
    ParserLimitCase(
        name: "field count", limits: HTTPParserLimits(maxFieldCount: 2), request: chunkedUpload(fields: "X-A: 1\r\n"),
        answer: "HTTP/1.1 431", reason: "too many header fields"),
    ParserLimitCase(
        name: "chunk extension", limits: HTTPParserLimits(maxChunkExtensionLength: 8),
        request: chunkedUpload(ext: ";abcdefgh"),
        answer: "HTTP/1.1 400", reason: "chunk extension too long"),
]

/// Every limit the parser enforces reaches it from the app's configuration.
@Suite("Connection state machine: request limits")
struct ConnectionLimitTests {
    private func app(_ limits: HTTPParserLimits) -> App {
        let app = App(configuration: AppConfiguration(workers: 1, limits: limits))
        app.post("/up") { (body: RawBody) in "got \(body.bytes.count)" }
        return app
    }

    @Test(arguments: parserLimitCases)
    func aConfiguredLimitRefusesTheRequest(_ testCase: ParserLimitCase) async throws {
        let refused = try await ConnectionHarness(app: app(testCase.limits))
        await refused.send(testCase.request)
        // The end of the refusal's JSON body, or of the answer to a request the limit let through, which
        // must then fail here rather than wait for a close that never comes.
        await refused.waitUntil { $0.text.hasSuffix("}") || $0.text.hasSuffix("got 3") }
        let written = await refused.written
        #expect(written.hasPrefix(testCase.answer), "\(written)")
        #expect(written.contains(testCase.reason), "\(written)")
        if written.hasPrefix(testCase.answer) { await refused.waitUntil { $0.isClosed } }
        await refused.shutdown()

        // The defaults take the same request: the configured limit refused it.
        let served = try await ConnectionHarness(app: app(.default))
        await served.send(testCase.request)
        await served.waitForOutput("got 3")
        #expect(await served.written.hasPrefix("HTTP/1.1 200"))
        await served.shutdown()
    }
}
