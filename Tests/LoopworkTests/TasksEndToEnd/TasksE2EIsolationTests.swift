import HTTPTypes
import Logging
import Loopwork
import LoopworkTestSupport
import LoopworkTesting
import Testing

// What tasks must never do to the server: a blocked sync task stalls no request, a client that
// vanished still gets its after-response task run exactly once, and failures (of a task or of
// the handler) touch nothing but their own request.

@Sendable private func chargeCard(_ cardNumber: String) async throws { throw EndToEndFailure("card declined") }

@Suite(.timeLimit(.minutes(1)))
struct TasksE2EIsolationTests {
    @Test func blockedSyncTaskDoesNotStallOtherRequests() async throws {
        let gate = TaskThreadGate()
        let blocker = Captured<ScheduledTask<String>>()
        let quickRuns = TaskEventLog()
        let app = App(configuration: EndToEnd.oneWorker, logger: EndToEndLogs().logger)
        app.addTasks()
        app.post("/block") { (tasks: Tasks) in
            blocker.set(
                tasks.task(name: "blocker").schedule({ () in
                    gate.wait()
                    return "unblocked"
                }))
            return "scheduled"
        }
        app.post("/quick/{n}") { (tasks: Tasks, path: PathParameters) in
            let n = path["n"] ?? "?"
            tasks.schedule({ () async in quickRuns.record(n) })
            return n
        }
        let running = try await app.start(host: "127.0.0.1", port: 0)
        #expect(try await EndToEnd.fetch(running.port, "POST", "/block").text == "scheduled")
        let task = await blocker.value
        #expect(await task.started.wait(), "the blocking function holds a pool thread from here on")

        let port = running.port
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for n in 0..<20 {
                group.addTask { try await EndToEnd.fetch(port, "POST", "/quick/\(n)").text }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(answers == Set((0..<20).map(String.init)))
        // Every request's own async task ran on the loop too.
        await quickRuns.waitFor(count: 20)
        #expect(Set(quickRuns.events) == answers)
        #expect(task.state == .running, "all of that happened while the sync task was still blocked")

        gate.open()
        #expect(try await task.value == "unblocked")
        await running.shutdown()
    }

    @Test func clientGoneBeforeTheResponseStillRunsItsAfterResponseTaskOnce() async throws {
        let logs = EndToEndLogs()
        let gates = Gates()
        let runs = RunCounter()
        let handle = Captured<ScheduledTask<Void>>()
        let app = App(configuration: EndToEnd.oneWorker, logger: logs.logger)
        app.addTasks()
        app.get("/slow") { (tasks: Tasks) in
            handle.set(tasks.afterResponse.task(name: "after-gone").schedule({ () async in runs.increment() }))
            gates["arrived"].open()
            await gates["release"].wait()
            return "too late"
        }
        app.get("/ping") { "pong" }
        let running = try await app.start(host: "127.0.0.1", port: 0)
        var socket: TestSocket? = try TestSocket(port: running.port)
        try await socket?.send(EndToEnd.request("/slow"))
        await gates["arrived"].wait()
        socket?.reset()
        socket = nil  // the close sends the RST
        // A later request on the same loop was answered: the loop has taken in the client's end.
        #expect(try await EndToEnd.fetch(running.port, "GET", "/ping").text == "pong")
        let task = await handle.value
        #expect(task.state == .pending, "the handler has not returned yet")
        gates["release"].open()

        try await task.value
        #expect(task.state == .succeeded)
        // The response could not be delivered: the server closed that connection.
        await logs.waitFor("connection closed", count: 2)
        await running.shutdown()
        #expect(runs.value == 1)
    }

    @Test func clientGoneWhileTheResponseIsWrittenStillRunsItsAfterResponseTaskOnce() async throws {
        let runs = RunCounter()
        let handle = Captured<ScheduledTask<Void>>()
        let app = App(configuration: EndToEnd.oneWorker, logger: EndToEndLogs().logger)
        app.addTasks()
        app.get("/large") { (tasks: Tasks) in
            handle.set(tasks.afterResponse.task(name: "after-cut").schedule({ () async in runs.increment() }))
            return Response(bytes: [UInt8](repeating: UInt8(ascii: "b"), count: TasksE2ETimingTests.largeBodySize))
        }
        let running = try await app.start(host: "127.0.0.1", port: 0)
        var socket: TestSocket? = try TestSocket(port: running.port)
        try await socket?.send(EndToEnd.request("/large"))
        // The first bytes arrived: the write is under way, and far from complete.
        let first = try await socket?.receive(maxBytes: 1024) ?? []
        #expect(String(decoding: first, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        let task = await handle.value
        #expect(task.state == .pending)
        socket?.reset()
        socket = nil

        try await task.value
        #expect(task.state == .succeeded)
        await running.shutdown()
        #expect(runs.value == 1)
    }

    @Test func failingTaskReachesItsErrorHandlerAndTheServerServesTheNextRequest() async throws {
        let reached = Captured<String>()
        let failing = Captured<ScheduledTask<Void>>()
        let logs = EndToEndLogs()
        let app = App(configuration: EndToEnd.oneWorker, logger: logs.logger)
        app.addTasks()
        let onError = TaskErrorHandler { task, error in reached.set("\(task.name): \(error)") }
        app.post("/charge") { (tasks: Tasks) in
            failing.set(tasks.task(name: "charge", onError: onError).schedule(chargeCard, "4111-1111"))
            return ["status": "accepted"]
        }
        app.get("/ping") { "pong" }
        try await app.test(.live) { client async throws in
            #expect(try await client.execute(.post, "/charge").status == .ok)
            #expect(await reached.value == "charge: EndToEndFailure(card declined)")
            let task = await failing.value
            await #expect(throws: EndToEndFailure.self) { try await task.value }
            #expect(task.state == .failed)
            // Same connection, then a fresh one.
            #expect(try await client.execute(.get, "/ping").text == "pong")
            #expect(try await client.execute(.post, "/charge").status == .ok)
        }
        let errors = logs.entries("background task failed")
        #expect(errors.count == 2)
        #expect(errors.allSatisfy { $0.level == .error && $0.metadata["task"] == "charge" })
        #expect(errors.allSatisfy { !$0.metadata.values.contains { $0.contains("4111") } }, "never the arguments")
    }

    @Test func failingHandlerAnswers500DiscardsLaterTasksAndKeepsItsImmediateTask() async throws {
        let immediate = Captured<ScheduledTask<String>>()
        let afterRoute = Captured<ScheduledTask<Void>>()
        let afterResponse = Captured<ScheduledTask<Void>>()
        let laterRuns = RunCounter()
        let logs = EndToEndLogs()
        let app = App(configuration: EndToEnd.oneWorker, logger: logs.logger)
        app.addTasks()
        app.post("/broken") { (tasks: Tasks) async throws -> String in
            immediate.set(tasks.task(name: "reserve").schedule({ () async in "reserved" }))
            afterRoute.set(tasks.afterRoute.task(name: "warm").schedule({ () async in laterRuns.increment() }))
            afterResponse.set(tasks.afterResponse.task(name: "email").schedule({ () async in laterRuns.increment() }))
            throw EndToEndFailure("handler broke")
        }
        app.get("/ping") { "pong" }
        try await app.test(.live) { client async throws in
            let response = try await client.execute(.post, "/broken")
            #expect(response.status == .internalServerError)
            #expect(!response.text.contains("handler broke"), "the error stays out of the response")
            #expect(try await immediate.value.value == "reserved")
            let discarded = [await afterRoute.value, await afterResponse.value]
            for task in discarded {
                await #expect(throws: TaskDiscardedError.self) { try await task.value }
                #expect(task.state == .discarded)
                #expect(await task.started.wait() == false)
            }
            #expect(try await client.execute(.get, "/ping").text == "pong")
        }
        #expect(laterRuns.value == 0)
        let lines = logs.entries("discarded background tasks because its handler threw")
        try #require(lines.count == 1)
        #expect(lines[0].metadata["tasks"] == "warm (after-route), email (after-response)")
    }
}
