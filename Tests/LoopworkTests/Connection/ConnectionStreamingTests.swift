import Foundation
import HTTPTypes
import LoopworkHTTP
import LoopworkTestSupport
import LoopworkUV
import Testing

@testable import Loopwork

/// The connection's protocol logic without a socket: request bodies with backpressure and
/// `100-continue`, unread bodies, streamed responses with backpressure, order and milestones.
@Suite("Connection state machine: streaming")
struct ConnectionStreamingTests {
    static let block = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)

    private func app(
        _ configuration: AppConfiguration = AppConfiguration(workers: 1),
        recorder: MilestoneRecorder = MilestoneRecorder(), gates: Gates = Gates()
    ) -> App {
        let app = App(configuration: configuration)
        app.post("/count") { (request: Request) in
            request.context.addObserver(recorder)
            var count = 0
            for try await chunk in request.body {
                count += chunk.count
                gates["chunk"].open()
                await gates["read-more"].wait()
            }
            return "\(count)"
        }
        app.post("/refuse") { (request: Request) -> Response in
            request.context.addObserver(recorder)
            return Response(status: .unauthorized)
        }
        app.post("/collect") { (body: RawBody) in "\(body.bytes.count)" }
        app.get("/plain") { "plain" }
        app.get("/stream") { (request: Request, query: QueryParameters) -> Response in
            request.context.addObserver(recorder)
            let blocks = Int(query["blocks"] ?? "4") ?? 4
            let length = query["length"].flatMap { Int($0) }
            return Response(
                body: ResponseBody(length: length) { writer in
                    for index in 0..<blocks {
                        try await writer.write(Self.block)
                        gates["wrote-\(index)"].open()
                    }
                    if query["fail"] != nil { throw HTTPError(.internalServerError) }
                    gates["producer-done"].open()
                })
        }
        app.get("/trailers") { () -> Response in
            Response(
                body: ResponseBody { writer in
                    try await writer.write("abc")
                    try await writer.writeTrailers([HTTPField.Name("X-Checksum")!: "294"])
                })
        }
        app.get("/sequence") { () -> Response in
            let chunks = AsyncStream<[UInt8]> { continuation in
                for part in ["one;", "two;", "three;"] { continuation.yield(Array(part.utf8)) }
                continuation.finish()
            }
            return Response(body: ResponseBody(length: 14, chunks: chunks))
        }
        app.get("/gated-stream") { (request: Request) -> Response in
            request.context.addObserver(recorder)
            return Response(
                body: ResponseBody { writer in
                    try await writer.write("first;")
                    await gates["go"].wait()
                    do {
                        try await writer.write("second;")
                    } catch {
                        gates["write-threw"].open()
                        throw error
                    }
                })
        }
        return app
    }

    @Test func bodyBackpressureStopsReadingAboveTheHighWaterMarkAndResumesBelowTheLow() async throws {
        let gates = Gates()
        let harness = try await ConnectionHarness(app: app(gates: gates))
        let total = 16 * Self.block.count
        await harness.send("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: \(total)\r\n\r\n")
        for _ in 0..<8 { await harness.send(Self.block) }
        // 512 KiB arrived and the handler holds its first block: more than 256 KiB wait unread.
        await gates["chunk"].wait()
        #expect(await harness.withConnection { transport, _ in transport.isReading } == false)
        gates["read-more"].open()
        await harness.waitUntil { $0.isReading }
        for _ in 0..<8 { await harness.send(Self.block) }
        await harness.waitForOutput("\r\n\r\n\(total)")
        #expect(await harness.written.hasPrefix("HTTP/1.1 200 OK"))
        await harness.shutdown()
    }

    @Test func continueIsSentWhenTheHandlerFirstReadsAndNotBefore() async throws {
        let gates = Gates()
        gates["read-more"].open()
        let harness = try await ConnectionHarness(app: app(gates: gates))
        await harness.send("POST /count HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        await harness.waitForOutput("HTTP/1.1 100 Continue\r\n\r\n")
        await harness.send("hello")
        await harness.waitForOutput("\r\n\r\n5")
        await harness.shutdown()

        // A handler that answers without reading never asks for the body: no 100, and the
        // connection closes after the answer since the client may still send it.
        let refusing = try await ConnectionHarness(app: app(gates: gates))
        await refusing.send("POST /refuse HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        await refusing.waitUntil { $0.isClosed }
        let answer = await refusing.written
        #expect(answer.hasPrefix("HTTP/1.1 401 Unauthorized"))
        #expect(!answer.contains("100 Continue"))
        #expect(answer.contains("Connection: close"))
        await refusing.shutdown()
    }

    // Found by the stream fuzzer: with a write high-water mark below the size of the interim
    // answer, writing `100 Continue` paused reading, and its completion never resumed it, so the
    // handler waited for a body the connection would not read.
    @Test func readingResumesOnceA100ContinueThatPassedTheWriteHighWaterMarkIsTaken() async throws {
        let gates = Gates()
        gates["read-more"].open()
        var configuration = AppConfiguration(workers: 1)
        configuration.writeHighWaterMark = 10
        let harness = try await ConnectionHarness(app: app(configuration, gates: gates))
        await harness.withConnection { transport, _ in transport.holdsWrites = true }
        await harness.send("POST /count HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        // The client has not taken the 25 bytes of the interim answer: reading pauses.
        await harness.waitUntil { $0.pendingWriteBytes > 0 && !$0.isReading }
        let resumed = await harness.withConnection { transport, _ in
            transport.release()
            return transport.isReading
        }
        #expect(resumed)
        await harness.send("hello")
        await harness.waitForOutput("\r\n\r\n5")
        await harness.shutdown()
    }

    // Found by the stream fuzzer: a streamed body that ends the connection (close-delimited, or
    // after `Connection: close`) closed it as soon as the producer returned; with nothing written
    // by the producer the head could still be waiting for the client, and closing dropped it.
    @Test func aStreamThatEndsTheConnectionClosesOnlyOnceItsHeadIsTaken() async throws {
        let recorder = MilestoneRecorder()
        let harness = try await ConnectionHarness(app: app(recorder: recorder))
        await harness.withConnection { transport, _ in transport.holdsWrites = true }
        await harness.send("GET /stream?blocks=0 HTTP/1.0\r\n\r\nGET /plain HTTP/1.0\r\n\r\n")
        await recorder.wait(for: "delivered")
        #expect(await harness.withConnection { transport, _ in transport.isClosed } == false)
        let closed = await harness.withConnection { transport, _ in
            transport.release()
            return transport.isClosed
        }
        #expect(closed)
        let written = await harness.written
        #expect(written.hasPrefix("HTTP/1.1 200 OK"))
        // Nothing follows a body delimited by the close.
        #expect(!written.contains("plain"))
        await harness.shutdown()
    }

    @Test func anUnreadShortBodyIsDrainedAndNeverParsedAsTheNextRequest() async throws {
        let harness = try await ConnectionHarness(app: app())
        await harness.send("POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n")
        await harness.waitForOutput("401 Unauthorized")
        // The body, which looks like a request, then a real one.
        await harness.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        await harness.waitForOutput("\r\n\r\nplain")
        let written = await harness.written
        #expect(written.components(separatedBy: "HTTP/1.1 ").count - 1 == 2)
        #expect(!written.contains("Connection: close"))
        await harness.shutdown()
    }

    @Test func anUnreadBodyPastTheDrainLimitClosesTheConnection() async throws {
        var configuration = AppConfiguration(workers: 1)
        configuration.unreadBodyDrainLimit = 100
        let declared = try await ConnectionHarness(app: app(configuration))
        await declared.send("POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        await declared.waitUntil { $0.isClosed }
        #expect(await declared.written.contains("Connection: close"))
        await declared.shutdown()

        let chunked = try await ConnectionHarness(app: app(configuration))
        await chunked.send("POST /refuse HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        await chunked.waitForOutput("401 Unauthorized")
        #expect(await chunked.withConnection { transport, _ in transport.isClosed } == false)
        await chunked.send("c8\r\n" + String(repeating: "y", count: 200) + "\r\n")
        await chunked.waitUntil { $0.isClosed }
        await chunked.shutdown()
    }

    @Test func aBodyPastTheLimitIs413() async throws {
        let limits = HTTPParserLimits(maxBodySize: 4)
        // Arrived whole before the handler ran: answered 413, and the connection goes on.
        let whole = try await ConnectionHarness(app: app(AppConfiguration(workers: 1, limits: limits)))
        await whole.send(
            "POST /collect HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n")
        await whole.waitForOutput("413")
        await whole.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        await whole.waitForOutput("\r\n\r\nplain")
        await whole.shutdown()

        // Still arriving when the handler refused it: the connection closes instead of reading on.
        let streaming = try await ConnectionHarness(app: app(AppConfiguration(workers: 1, limits: limits)))
        await streaming.send("POST /collect HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        await streaming.send("3\r\ndef\r\n")
        await streaming.waitUntil { $0.isClosed }
        let written = await streaming.written
        #expect(written.hasPrefix("HTTP/1.1 413"))
        #expect(written.contains("Connection: close"))
        await streaming.shutdown()
    }

    @Test func aClientGoneMidBodyMakesTheReadThrow() async throws {
        let gates = Gates()
        gates["read-more"].open()
        let recorder = MilestoneRecorder()
        let harness = try await ConnectionHarness(app: app(recorder: recorder, gates: gates))
        await harness.send("POST /count HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        await gates["chunk"].wait()
        await harness.withConnection { transport, _ in transport.end(UVError(code: -104, operation: "read")) }
        await recorder.wait(for: "handler-failed")
        await recorder.wait(for: "not-delivered")
        await harness.shutdown()
    }

    @Test func aStreamedBodyWaitsForASlowClientAndTheMilestoneWaitsForTheLastByte() async throws {
        let gates = Gates()
        let recorder = MilestoneRecorder()
        let harness = try await ConnectionHarness(app: app(recorder: recorder, gates: gates))
        await harness.withConnection { transport, _ in transport.holdsWrites = true }
        await harness.send("GET /stream?blocks=16 HTTP/1.1\r\nHost: x\r\n\r\n")
        // The producer is held once more than the 256 KiB high-water mark is unsent: in its
        // fourth write, which cannot return until the client reads.
        await harness.waitUntil { $0.pendingWriteBytes > 4 * Self.block.count }
        let pending = await harness.withConnection { transport, _ in transport.pendingWriteBytes }
        #expect(pending < 5 * Self.block.count)
        #expect(gates["wrote-2"].isOpen)
        #expect(!gates["wrote-3"].isOpen)
        #expect(recorder.recorded == ["handler"])
        await harness.withConnection { transport, _ in transport.release() }
        await recorder.wait(for: "delivered")
        let written = await harness.written
        #expect(written.contains("Transfer-Encoding: chunked"))
        #expect(written.hasSuffix("0\r\n\r\n"))
        #expect(recorder.recorded == ["handler", "delivered"])
        await harness.shutdown()
    }

    @Test func aStreamHoldsLaterPipelinedResponsesBackInOrder() async throws {
        let gates = Gates()
        let harness = try await ConnectionHarness(app: app(gates: gates))
        await harness.send("GET /gated-stream HTTP/1.1\r\nHost: x\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        await harness.waitForOutput("first;")
        #expect(!(await harness.written.contains("plain")))
        gates["go"].open()
        await harness.waitForOutput("\r\n\r\nplain")
        let written = await harness.written
        let second = try #require(written.range(of: "second;"))
        let plain = try #require(written.range(of: "\r\n\r\nplain"))
        #expect(second.upperBound < plain.lowerBound)
        #expect(written.contains("0\r\n\r\nHTTP/1.1 200 OK"))
        await harness.shutdown()
    }

    @Test func aClientGoneMidStreamEndsTheProducerAndReportsOnce() async throws {
        let gates = Gates()
        let recorder = MilestoneRecorder()
        let harness = try await ConnectionHarness(app: app(recorder: recorder, gates: gates))
        await harness.send("GET /gated-stream HTTP/1.1\r\nHost: x\r\n\r\n")
        await harness.waitForOutput("first;")
        await harness.withConnection { transport, _ in transport.end(UVError(code: -104, operation: "read")) }
        await recorder.wait(for: "not-delivered")
        gates["go"].open()
        await gates["write-threw"].wait()
        #expect(recorder.recorded == ["handler", "not-delivered"])
        await harness.shutdown()
    }

    @Test func aProducerThatThrowsClosesTheConnectionAndFailsTheBody() async throws {
        let recorder = MilestoneRecorder()
        let harness = try await ConnectionHarness(app: app(recorder: recorder))
        await harness.send(
            "GET /stream?blocks=2&fail=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        await harness.waitUntil { $0.isClosed }
        await recorder.wait(for: "body-failed")
        let written = await harness.written
        #expect(!written.hasSuffix("0\r\n\r\n"))
        #expect(!written.contains("plain"))
        #expect(recorder.recorded == ["handler", "body-failed"])
        await harness.shutdown()
    }

    @Test func aKnownLengthIsContentLengthAndAShortProducerFails() async throws {
        let recorder = MilestoneRecorder()
        let harness = try await ConnectionHarness(app: app(recorder: recorder))
        await harness.send("GET /stream?blocks=2&length=\(2 * Self.block.count) HTTP/1.1\r\nHost: x\r\n\r\n")
        await recorder.wait(for: "delivered")
        let written = await harness.written
        #expect(written.contains("Content-Length: \(2 * Self.block.count)\r\n"))
        #expect(!written.contains("chunked"))
        await harness.shutdown()

        let short = MilestoneRecorder()
        let failing = try await ConnectionHarness(app: app(recorder: short))
        await failing.send("GET /stream?blocks=1&length=\(2 * Self.block.count) HTTP/1.1\r\nHost: x\r\n\r\n")
        await short.wait(for: "body-failed")
        await failing.waitUntil { $0.isClosed }
        await failing.shutdown()
    }

    @Test func trailersEndAChunkedBodyAndASequenceBodyKeepsItsLength() async throws {
        let harness = try await ConnectionHarness(app: app())
        await harness.send("GET /trailers HTTP/1.1\r\nHost: x\r\n\r\nGET /sequence HTTP/1.1\r\nHost: x\r\n\r\n")
        await harness.waitForOutput("one;two;three;")
        let written = await harness.written
        #expect(written.contains("\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 294\r\n\r\nHTTP/1.1 200 OK"))
        #expect(written.contains("Content-Length: 14\r\n"))
        #expect(written.hasSuffix("\r\n\r\none;two;three;"))
        await harness.shutdown()
    }

    @Test func headNeverRunsTheProducerAndHTTP10IsCloseDelimited() async throws {
        let gates = Gates()
        let harness = try await ConnectionHarness(app: app(gates: gates))
        await harness.send("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        await harness.waitForOutput("\r\n\r\nplain")
        #expect(!gates["wrote-0"].isOpen)
        #expect(await harness.written.hasPrefix("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"))
        await harness.shutdown()

        let old = try await ConnectionHarness(app: app(gates: gates))
        await old.send("GET /stream?blocks=2 HTTP/1.0\r\n\r\n")
        await old.waitUntil { $0.isClosed }
        let written = await old.written
        #expect(!written.contains("chunked"))
        #expect(!written.contains("Content-Length"))
        #expect(written.contains("Connection: close"))
        #expect(written.hasSuffix(String(decoding: Self.block, as: UTF8.self)))
        await old.shutdown()
    }
}
