import Foundation
import LoopworkTestSupport
import LoopworkUV
import Testing

@testable import Loopwork

/// The handler task a keep-alive connection keeps between requests (`HTTPConnection.run`): it
/// carries nothing from one request into the next, and it ends with its connection.
@Suite("Connection state machine: handler tasks")
struct ConnectionHandlerTaskTests {
    /// The last request context a handler saw, held weakly.
    private final class LastContext: Sendable {
        private let context = Locked<WeakContext>(WeakContext())
        struct WeakContext { weak var value: RequestContext? }

        func remember(_ context: RequestContext) { self.context.withLock { $0.value = context } }
        var isReleased: Bool { context.withLock { $0.value == nil } }
    }

    private func request(_ path: String) -> String { "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n" }

    @Test func aWorkerParksABoundedNumberOfHandlerTasks() async throws {
        let app = App(configuration: AppConfiguration(workers: 1))
        app.get("/") { () -> String in "ok" }
        let harness = try await ConnectionHarness(app: app)
        let worker = await harness.withConnection { _, connection in connection.worker }
        #expect(worker.parkedHandlerTaskCount == 0)
        await harness.send(request("/"))
        await harness.waitForOutput("\r\n\r\nok")
        // The task that answered parks once its answer is queued, on the loop, after the write.
        let parked = await harness.withConnection { _, connection in connection.parkedHandlerTask != nil }
        #expect(parked)
        #expect(worker.parkedHandlerTaskCount == 1)
        // The remaining places, then none: the next task would end instead of parking.
        for _ in 1..<WorkerContext.maxParkedHandlerTasks { #expect(worker.reserveParking()) }
        #expect(!worker.reserveParking())
        for _ in 1..<WorkerContext.maxParkedHandlerTasks { worker.releaseParking() }
        #expect(await harness.closeAndCheckReleased())
        #expect(worker.parkedHandlerTaskCount == 0)
        await harness.shutdown()
    }

    @Test func aHandlerThatCancelsItsTaskDoesNotCancelTheNextRequestsHandler() async throws {
        let app = App(configuration: AppConfiguration(workers: 1))
        app.get("/cancel-own-task") { () -> String in
            withUnsafeCurrentTask { $0?.cancel() }
            return "cancelled"
        }
        app.get("/is-cancelled") { () -> String in "is-cancelled=\(Task.isCancelled)" }
        let harness = try await ConnectionHarness(app: app)
        await harness.send(request("/is-cancelled"))
        await harness.waitForOutput("is-cancelled=")
        await harness.send(request("/cancel-own-task"))
        await harness.waitForOutput("\r\n\r\ncancelled")
        await harness.send(request("/is-cancelled"))
        await harness.waitForOutput("is-cancelled=", count: 2)
        let written = await harness.written
        #expect(!written.contains("is-cancelled=true"), "\(written.debugDescription)")
        #expect(written.components(separatedBy: "is-cancelled=false").count == 3)
        await harness.shutdown()
    }

    @Test func anAnsweredRequestIsNotKeptAliveWhileTheConnectionWaitsForTheNext() async throws {
        let app = App(configuration: AppConfiguration(workers: 1))
        let last = LastContext()
        app.post("/upload") { (request: Request) -> String in
            last.remember(request.context)
            return "stored"
        }
        let harness = try await ConnectionHarness(app: app)
        await harness.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        await harness.waitForOutput("stored")
        // The response was written on the loop; checking there orders this after the task parked.
        #expect(await harness.withConnection { _, _ in last.isReleased })
        await harness.shutdown()
    }

    @Test func theWaitingHandlerTaskEndsWhenItsConnectionCloses() async throws {
        let app = App(configuration: AppConfiguration(workers: 1))
        app.get("/plain") { "plain" }
        let harness = try await ConnectionHarness(app: app)
        await harness.send(request("/plain"))
        await harness.waitForOutput("plain")
        #expect(await harness.closeAndCheckReleased())
        await harness.shutdown()
    }

    @Test func pipelinedRequestsBehindASuspendedHandlerRunAtOnceAndTheConnectionServesOn() async throws {
        let gates = Gates()
        let app = App(configuration: AppConfiguration(workers: 1))
        app.get("/slow") { () async -> String in
            await gates["slow"].wait()
            return "slow"
        }
        app.get("/fast") { () -> String in
            gates["fast-ran"].open()
            return "fast"
        }
        let harness = try await ConnectionHarness(app: app)
        await harness.send(request("/slow") + request("/fast"))
        // The second handler runs while the first is suspended: it needed a task of its own.
        await gates["fast-ran"].wait()
        gates["slow"].open()
        await harness.waitForOutput("fast")
        await harness.send(request("/fast"))
        await harness.waitForOutput("fast", count: 2)
        let written = await harness.written
        let slow = try #require(written.range(of: "\r\n\r\nslow"))
        let fast = try #require(written.range(of: "\r\n\r\nfast"))
        #expect(slow.lowerBound < fast.lowerBound, "answers in request order")
        await harness.shutdown()
    }
}
