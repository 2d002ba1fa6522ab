import HTTPTypes
import Loopwork
import LoopworkTestSupport
import LoopworkTesting
import Testing

// Timing through the real server: an immediate task runs while its handler is suspended, and
// an after-response task waits for the write completion of the response's last byte.

@Suite(.timeLimit(.minutes(1)))
struct TasksE2ETimingTests {
    /// Far more than the loopback socket buffers hold (send buffer at most 4 MiB here, and the
    /// receive window stays small while the client reads nothing), so the write cannot complete
    /// until the client reads.
    static let largeBodySize = 16 << 20

    @Test func afterResponseTaskStartsOnlyAfterTheLastByteWasWritten() async throws {
        let afterResponse = Captured<ScheduledTask<Void>>()
        let afterRoute = Captured<ScheduledTask<Void>>()
        let app = App(configuration: EndToEnd.oneWorker, logger: EndToEndLogs().logger)
        app.addTasks()
        app.get("/large") { (tasks: Tasks) in
            afterResponse.set(tasks.afterResponse.task(name: "after-large").schedule({ () async in }))
            afterRoute.set(tasks.afterRoute.task(name: "route-done").schedule({ () async in }))
            return Response(bytes: [UInt8](repeating: UInt8(ascii: "a"), count: Self.largeBodySize))
        }
        app.get("/ping") { "pong" }
        let running = try await app.start(host: "127.0.0.1", port: 0)
        let socket = try TestSocket(port: running.port)
        try await socket.send(EndToEnd.request("/large"))

        let responseTask = await afterResponse.value
        // The after-route task started: the handler returned, and its response went to the write
        // path in the same loop turn.
        #expect(await afterRoute.value.started.wait())
        // A later request on the same (only) loop was answered, so the loop has been past the
        // large write for a while; the client has read nothing, so that write cannot be done.
        #expect(try await EndToEnd.fetch(running.port, "GET", "/ping").text == "pong")
        #expect(responseTask.started.isSet == false)
        #expect(responseTask.state == .pending)

        let response = try #require(try await EndToEnd.read(socket).first)
        #expect(response.status == .ok)
        #expect(response.body.count == Self.largeBodySize)
        #expect(await responseTask.started.wait())
        try await responseTask.value
        #expect(responseTask.state == .succeeded)
        await running.shutdown()
    }

    @Test func smallResponseWrittenAtOnceStillStartsItsAfterResponseTask() async throws {
        let afterResponse = Captured<ScheduledTask<String>>()
        let app = App(configuration: EndToEnd.oneWorker, logger: EndToEndLogs().logger)
        app.addTasks()
        app.get("/small") { (tasks: Tasks) in
            afterResponse.set(tasks.afterResponse.schedule({ () async in "sent" }))
            return "ok"
        }
        try await app.test(.live) { client async throws in
            #expect(try await client.execute(.get, "/small").text == "ok")
            // Written in one synchronous try-write: no libuv callback, the task starts anyway.
            #expect(try await afterResponse.value.value == "sent")
        }
    }

    @Test func immediateTaskStartsWhileTheHandlerIsStillSuspended() async throws {
        let events = TaskEventLog()
        let app = App(configuration: EndToEnd.oneWorker, logger: EndToEndLogs().logger)
        app.addTasks()
        app.post("/immediate") { (tasks: Tasks) in
            let taskRan = Gate()
            events.record("handler scheduled")
            tasks.schedule({ () async in
                events.record("task started")
                taskRan.open()
            })
            // Only the task opens this: the handler returns only if the task ran meanwhile.
            await taskRan.wait()
            events.record("handler resumed")
            return "done"
        }
        try await app.test(.live) { client async throws in
            let response = try await client.execute(.post, "/immediate")
            #expect(response.status == .ok)
            #expect(response.text == "done")
            #expect(events.events == ["handler scheduled", "task started", "handler resumed"])
        }
    }
}
