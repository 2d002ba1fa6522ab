import Foundation
import HTTPTypes
import LoopworkTestSupport
import Testing

@testable import Loopwork

/// What a connection still answers once its request closes it, and once the server drains.
@Suite("Connection state machine: closing and draining")
struct ConnectionDrainTests {
    private func app(gates: Gates = Gates(), writeHighWaterMark: Int = 256 * 1024) -> App {
        let app = App(configuration: AppConfiguration(workers: 1, writeHighWaterMark: writeHighWaterMark))
        app.get("/plain") { "plain" }
        app.get("/slow") { () async -> String in
            await gates["slow"].wait()
            return "slow"
        }
        return app
    }

    private func beginShutdown(_ harness: ConnectionHarness) async -> Bool {
        await harness.withConnection { transport, connection in
            connection.worker.isShuttingDown = true
            connection.beginShutdown()
            return transport.isClosed
        }
    }

    private func responses(in text: String) -> Int { text.components(separatedBy: "HTTP/1.1 ").count - 1 }

    // RFC 9112 §9.6: nothing after the request that closes the connection is processed.
    @Test(arguments: [
        "GET /plain HTTP/1.0\r\n\r\nGET /plain HTTP/1.1\r\n\r\n",
        "GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /plain HTTP/1.1\r\n\r\n",
        "GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n\u{1}\u{2} junk\r\n\r\n",
    ])
    func nothingAfterAClosingRequestIsAnswered(wire: String) async throws {
        let harness = try await ConnectionHarness(app: app())
        await harness.send(wire)
        await harness.waitUntil { $0.isClosed }
        let written = await harness.written
        #expect(responses(in: written) == 1 && written.hasPrefix("HTTP/1.1 200"), "\(written.debugDescription)")
        #expect(!written.contains("400"))
        await harness.shutdown()
    }

    @Test func aClosingRequestStopsReadingSoLaterBytesAreNeverParsed() async throws {
        let gates = Gates()
        let harness = try await ConnectionHarness(app: app(gates: gates))
        await harness.send("GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(await harness.withConnection { transport, _ in transport.isReading } == false)
        await harness.send("BROKEN\r\n\r\n")
        gates["slow"].open()
        await harness.waitUntil { $0.isClosed }
        let written = await harness.written
        #expect(responses(in: written) == 1 && written.hasSuffix("slow"), "\(written.debugDescription)")
        await harness.shutdown()
    }

    @Test func aRequestHalfReceivedAtShutdownIsAnsweredWithClose() async throws {
        let harness = try await ConnectionHarness(app: app())
        await harness.send("GET /plain HTTP/1.1\r\nHo")
        #expect(await beginShutdown(harness) == false)
        await harness.send("st: x\r\n\r\n")
        await harness.waitUntil { $0.isClosed }
        let written = await harness.written
        #expect(
            written.hasPrefix("HTTP/1.1 200") && written.contains("Connection: close\r\n") && written.hasSuffix("plain")
        )
        await harness.shutdown()
    }

    @Test func anIdleConnectionStillAnswersARequestInTheDrainWindow() async throws {
        let harness = try await ConnectionHarness(app: app())
        await harness.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        await harness.waitForOutput("plain")
        #expect(await beginShutdown(harness) == false)
        // Two requests in one read: the first is the last taken, and says so.
        await harness.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\nGET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        await harness.waitUntil { $0.isClosed }
        let written = await harness.written
        #expect(responses(in: written) == 2)
        #expect(written.components(separatedBy: "Connection: close\r\n").count == 2)
        await harness.shutdown()
    }

    @Test func theDrainWindowsEndClosesAnIdleConnectionOnceItsAnswerIsTaken() async throws {
        let harness = try await ConnectionHarness(app: app())
        await harness.withConnection { transport, _ in transport.holdsWrites = true }
        await harness.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await beginShutdown(harness) == false)
        let closedWithAnswerUntaken = await harness.withConnection { transport, connection in
            connection.closeIfIdle()
            return transport.isClosed
        }
        #expect(!closedWithAnswerUntaken)
        let closed = await harness.withConnection { transport, _ in
            transport.release()
            return transport.isClosed
        }
        #expect(closed)
        #expect(await harness.written.hasSuffix("plain"))
        await harness.shutdown()
    }

    @Test func theDrainWindowsEndLeavesARequestThatIsArriving() async throws {
        let harness = try await ConnectionHarness(app: app())
        await harness.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\nGET /pl")
        await harness.waitForOutput("plain")
        #expect(await beginShutdown(harness) == false)
        let closed = await harness.withConnection { transport, connection in
            connection.closeIfIdle()
            return transport.isClosed
        }
        #expect(!closed)
        await harness.send("ain HTTP/1.1\r\nHost: x\r\n\r\n")
        await harness.waitUntil { $0.isClosed }
        #expect(responses(in: await harness.written) == 2)
        await harness.shutdown()
    }

    @Test func owedResponsesAreWrittenAndTheLastSaysClose() async throws {
        let gates = Gates()
        let harness = try await ConnectionHarness(app: app(gates: gates))
        await harness.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await beginShutdown(harness) == false)
        // Taken after the shutdown began, behind owed answers: not processed.
        await harness.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        gates["slow"].open()
        await harness.waitUntil { $0.isClosed }
        let written = await harness.written
        #expect(responses(in: written) == 2 && written.hasSuffix("slow"), "\(written.debugDescription)")
        let parts = written.components(separatedBy: "HTTP/1.1 ")
        #expect(parts.count == 3 && !parts[1].contains("Connection: close") && parts[2].contains("Connection: close"))
        await harness.shutdown()
    }

    // Found by the stream fuzzer: an answer the client had not taken paused reading (past the
    // write high-water mark) while the next head was half received; the drain then waited for its
    // deadline. Now the half-received request is taken once reading resumes, and answered.
    @Test func aHalfHeadBehindAnUntakenAnswerIsAnsweredOnceReadingResumes() async throws {
        let harness = try await ConnectionHarness(app: app(writeHighWaterMark: 10))
        await harness.withConnection { transport, _ in transport.holdsWrites = true }
        await harness.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
        await harness.send("GET /pl")
        #expect(await harness.withConnection { transport, _ in transport.isReading } == false)
        #expect(await beginShutdown(harness) == false)
        let reading = await harness.withConnection { transport, _ in
            transport.holdsWrites = false
            transport.release()
            return transport.isReading
        }
        #expect(reading)
        await harness.send("ain HTTP/1.1\r\nHost: x\r\n\r\n")
        await harness.waitUntil { $0.isClosed }
        let written = await harness.written
        #expect(responses(in: written) == 2 && written.hasSuffix("plain"))
        await harness.shutdown()
    }
}
