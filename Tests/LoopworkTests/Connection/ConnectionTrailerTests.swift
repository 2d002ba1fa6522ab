import HTTPTypes
import Logging
import Testing

@testable import Loopwork

/// Request trailers through the connection: fields RFC 9110 §6.5.1 keeps out of trailers are
/// dropped (RFC 9112 §7.1.2 lets a recipient discard them) and the request is served.
@Suite("Connection state machine: request trailers")
struct ConnectionTrailerTests {
    @Test func forbiddenTrailerFieldsAreDiscardedLoggedAndTheRequestServed() async throws {
        let logs = EndToEndLogs()
        let app = App(configuration: AppConfiguration(workers: 1), logger: logs.logger)
        app.post("/upload") { (body: RawBody, fields: HTTPFields) in
            "\(body.bytes.count) \(fields[.contentType] ?? "-")"
        }
        let harness = try await ConnectionHarness(app: app)
        await harness.send(
            "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n0\r\nContent-Type: text/evil\r\nX-Checksum: 1\r\nAuthorization: secret\r\n\r\n")
        await harness.waitForOutput("3 -")
        let written = await harness.written
        #expect(written.hasPrefix("HTTP/1.1 200"))
        let lines = logs.entries("discarded trailer fields")
        #expect(lines.count == 1)
        #expect(lines.first?.level == .debug)
        #expect(lines.first?.metadata["fields"] == "content-type, authorization")
        // Names only: a discarded credential never reaches the log.
        #expect(!logs.entries.contains { $0.metadata.values.contains { $0.contains("secret") } })
        await harness.shutdown()
    }
}
