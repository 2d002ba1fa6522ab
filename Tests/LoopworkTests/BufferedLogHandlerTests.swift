import Foundation
import HTTPTypes
import Logging
import LoopworkTesting
import LoopworkUV
import Testing

@testable import Loopwork

@Suite("BufferedLogHandler")
struct BufferedLogHandlerTests {
    @Test func linesLookLikeStreamLogHandlersAndMergeMetadataInOrder() async throws {
        let output = try await loggedOutput(label: "demo") { logger in
            var logger = logger
            logger[metadataKey: "request-id"] = "r1"
            logger.info("served", metadata: ["status": "200", "a": "x"], source: "Loopwork")
            logger.debug("below the level")
            struct Failure: Error {}
            logger.error("failed", error: Failure())
        }
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[2].isEmpty)
        let stamp = #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} "#
        #expect(
            lines[0].range(
                of: stamp + #"info demo: a=x request-id=r1 status=200 \[Loopwork\] served$"#,
                options: .regularExpression) != nil, "\(lines[0])")
        #expect(lines[1].contains(" error demo: error.message=Failure() error.type="), "\(lines[1])")
        #expect(lines[1].hasSuffix("request-id=r1 [LoopworkTests] failed"), "\(lines[1])")
    }

    @Test func theEventsKeyWinsOverTheProvidersOverTheLoggersAndALongLineStaysWhole() async throws {
        // 3,000 bytes: past the buffer a line is formatted in on the stack.
        let long = String(repeating: "é", count: 1500)
        let provider = Logger.MetadataProvider { ["k": "provider", "p": "provider"] }
        let output = try await loggedOutput(label: "demo", provider: provider) { logger in
            var logger = logger
            logger[metadataKey: "k"] = "logger"
            logger[metadataKey: "p"] = "logger"
            logger[metadataKey: "l"] = "logger"
            logger.info("\(long)", metadata: ["k": "event"], source: "S")
            logger.info("short", source: "S")
            logger.info("", metadata: ["empty": ""], source: "S")
        }
        let lines = output.split(separator: "\n")
        try #require(lines.count == 3)
        #expect(lines[0].hasSuffix(" info demo: k=event l=logger p=provider [S] " + long))
        #expect(lines[1].hasSuffix(" info demo: k=provider l=logger p=provider [S] short"), "\(lines[1])")
        #expect(lines[2].hasSuffix(" info demo: empty= k=provider l=logger p=provider [S] "), "\(lines[2])")
    }

    /// With a provider and logger metadata holding one of the line's own keys, the merge and its
    /// precedence must come out the same on both paths; without them, the line skips the merge.
    @Test(arguments: [true, false])
    func theAccessLogLineIsTheOneSwiftLogWouldHaveWritten(withOtherMetadata: Bool) async throws {
        let provider = Logger.MetadataProvider { ["trace": "t1", "request-id": "provider"] }
        let output = try await loggedOutput(label: "access", provider: withOtherMetadata ? provider : nil) { logger in
            var logger = logger
            if withOtherMetadata {
                logger[metadataKey: "zone"] = "eu"
                logger[metadataKey: "duration-us"] = "logger"
            }
            for (status, micros) in [(204, 42), (500, 0), (200, 1_234_567_890_123)] {
                logger.log(
                    level: .notice, "PATCH /items/7?x=1 \(status)",
                    metadata: ["request-id": .string("abc123"), "duration-us": .string(String(micros))],
                    source: "Loopwork")
                let handler = try #require(logger.handler as? BufferedLogHandler)
                handler.logRequest(
                    level: .notice, method: "PATCH", path: "/items/7?x=1", status: status, requestID: "abc123",
                    durationMicros: micros, source: "Loopwork")
            }
        }
        let lines = output.split(separator: "\n")
        try #require(lines.count == 6)
        // The timestamps may fall in different seconds; everything after them must match.
        let withoutTimestamps = lines.map { $0.drop(while: { $0 != " " }) }
        for pair in stride(from: 0, to: 6, by: 2) {
            #expect(withoutTimestamps[pair] == withoutTimestamps[pair + 1], "\(lines)")
        }
        let others = withOtherMetadata ? " trace=t1 zone=eu" : ""
        #expect(
            withoutTimestamps[0]
                == " notice access: duration-us=42 request-id=abc123\(others) [Loopwork] PATCH /items/7?x=1 204")
        #expect(withoutTimestamps[5].hasPrefix(" notice access: duration-us=1234567890123 request-id=abc123"))
    }

    @Test(arguments: [0, 7, -7, 1_000, Int.max, Int.min])
    func decimalsAreWrittenAsStringWouldWriteThem(value: Int) {
        var written = ""
        LogLine.withStackBuffer { line in
            line.append(decimal: value)
            written = line.withBytes { String(decoding: $0, as: UTF8.self) }
        }
        #expect(written == String(value))
    }

    @Test func theMiddlewareWritesOneLinePerRequestThroughTheHandler() async throws {
        let output = try await loggedOutput(label: "access") { logger in
            let app = App(logger: logger)
            app.add(middleware: RequestLoggingMiddleware(level: .info))
            app.get("/teapot") { () throws -> String in throw HTTPError(.init(code: 418)) }
            try await app.test(.router) { client in
                _ = try await client.execute(.get, "/teapot")
            }
        }
        let lines = output.split(separator: "\n").filter { $0.contains("[Loopwork] GET") }
        try #require(lines.count == 1, "\(lines)")
        #expect(
            lines[0].range(
                of: #" info access: duration-us=\d+ request-id=[^ ]+ \[Loopwork\] GET /teapot 418$"#,
                options: .regularExpression) != nil, "\(lines[0])")
    }

    /// What `body` logs through a logger whose `BufferedLogHandler` writes into a pipe, read once
    /// the writer has stopped.
    private func loggedOutput(
        label: String, provider: Logger.MetadataProvider? = nil, _ body: (Logger) async throws -> Void
    ) async throws -> String {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let writer = LineWriter(fileDescriptor: ends[1])
        var failure: (any Error)?
        let logger = Logger(label: label) { label in
            BufferedLogHandler(label: label, writer: writer, metadataProvider: provider)
        }
        do { try await body(logger) } catch { failure = error }
        writer.stop()
        close(ends[1])
        if let failure { throw failure }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            output += buffer[..<count]
        }
        return String(decoding: output, as: UTF8.self)
    }
}
