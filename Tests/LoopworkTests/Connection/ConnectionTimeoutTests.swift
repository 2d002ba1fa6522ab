import Foundation
import HTTPTypes
import LoopworkTestSupport
import Testing

@testable import Loopwork

/// Timeouts and ordering on the connection state machine, with a clock the test moves by hand.
@Suite("Connection state machine: timeouts and order")
struct ConnectionTimeoutTests {
    private func app(gates: Gates = Gates(), writeHighWaterMark: Int = 256 * 1024) -> App {
        let app = App(
            configuration: AppConfiguration(
                workers: 1, headerReadTimeout: .seconds(10), idleTimeout: .seconds(60),
                writeHighWaterMark: writeHighWaterMark))
        app.get("/plain") { "plain" }
        app.get("/slow") { () async -> String in
            await gates["slow"].wait()
            return "slow"
        }
        app.post("/read") { (body: RawBody) in "\(body.bytes.count)" }
        return app
    }

    private func sweep(_ harness: ConnectionHarness, after duration: Duration) async {
        harness.clock.advance(by: duration)
        let now = harness.clock.now
        await harness.withConnection { _, connection in connection.checkTimeouts(now: now) }
    }

    @Test func aSlowHeadIs408AfterTheHeaderTimeoutAndNotBefore() async throws {
        let harness = try await ConnectionHarness(app: app())
        await harness.send("GET /plain HTTP/1.1\r\nHo")
        await sweep(harness, after: .seconds(9))
        #expect(await harness.written.isEmpty)
        await sweep(harness, after: .seconds(2))
        await harness.waitUntil { $0.isClosed }
        #expect(await harness.written.hasPrefix("HTTP/1.1 408"))
        await harness.shutdown()
    }

    @Test func anIdleConnectionClosesAfterTheIdleTimeout() async throws {
        let harness = try await ConnectionHarness(app: app())
        await harness.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        await harness.waitForOutput("plain")
        await sweep(harness, after: .seconds(59))
        #expect(await harness.withConnection { transport, _ in transport.isClosed } == false)
        await sweep(harness, after: .seconds(2))
        await harness.waitUntil { $0.isClosed }
        await harness.shutdown()
    }

    @Test func aBodyThatStallsClosesTheConnectionAfterTheIdleTimeout() async throws {
        let harness = try await ConnectionHarness(app: app())
        await harness.send("POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        await sweep(harness, after: .seconds(59))
        #expect(await harness.withConnection { transport, _ in transport.isClosed } == false)
        await sweep(harness, after: .seconds(2))
        await harness.waitUntil { $0.isClosed }
        #expect(await harness.written.isEmpty)
        await harness.shutdown()
    }

    // Found while fixing the shutdown stall below (the stream fuzzer now checks it): at the
    // client's EOF the connection closed as soon as nothing was queued, failing the answer it had
    // written and the client had not taken yet (a half-closed client that still reads).
    @Test func anAnswerTheClientHasNotTakenYetSurvivesItsEOF() async throws {
        let harness = try await ConnectionHarness(app: app())
        await harness.withConnection { transport, _ in transport.holdsWrites = true }
        await harness.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        let closedAtEOF = await harness.withConnection { transport, _ in
            transport.end()
            return transport.isClosed
        }
        #expect(!closedAtEOF)
        let closed = await harness.withConnection { transport, _ in
            transport.release()
            return transport.isClosed
        }
        #expect(closed)
        #expect(await harness.written.hasSuffix("\r\n\r\nplain"))
        await harness.shutdown()
    }

    @Test func pipelinedAnswersKeepRequestOrderBehindASlowHandler() async throws {
        let gates = Gates()
        let harness = try await ConnectionHarness(app: app(gates: gates))
        await harness.send(
            "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\n\r\nPOST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
        )
        // The later answers are ready but wait behind the first.
        #expect(await harness.written.isEmpty)
        gates["slow"].open()
        await harness.waitForOutput("\r\n\r\n2")
        let written = await harness.written
        let slow = try #require(written.range(of: "\r\n\r\nslow"))
        let plain = try #require(written.range(of: "\r\n\r\nplain"))
        #expect(slow.upperBound < plain.lowerBound)
        #expect(written.hasSuffix("\r\n\r\n2"))
        await harness.shutdown()
    }
}
