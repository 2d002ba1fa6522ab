import HTTPTypes
import Loopwork
import LoopworkTestSupport
import LoopworkUV
import Testing

// Every example of the fastapi-tasks API reference, translated to Swift and run through the
// router: the route's own hooks report the handler milestone; the test reports the response's.

private let record = Locked<[String]>([])
private let finished = TaskEventLog()

@Sendable private func myTask() async { finished.record("my_task") }
@Sendable private func cleanupTask() async { finished.record("cleanup_task") }
@Sendable private func sendEmail() async { finished.record("send_email") }
@Sendable private func processData(_ data: String, _ key: String) async {
    finished.record("process_data \(data) \(key)")
}
@Sendable private func myFunction(_ x: Int, _ y: String) async -> [String: String] { ["x": "\(x)", "y": y] }

/// Runs `path` through `app` as the server would, then reports the response as written.
private func serve(_ app: App, _ harness: TaskHarness, _ path: String) async throws -> Response {
    let responder = try app.prepare()
    let context = RequestContext(requestID: "seed", logger: app.logger, services: app.services, host: harness.host)
    let request = Request(
        head: HTTPRequest(method: .post, scheme: "http", authority: "test", path: path), context: context)
    let response = await responder.respond(to: request)
    context.responseFinished(delivered: true)
    return response
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct TaskSeedExampleTests {
    private func events(after count: Int, waitingFor more: Int) async -> ArraySlice<String> {
        await finished.waitFor(count: count + more)
        return finished.events[count...]
    }

    @Test func usage() async throws {
        let harness = TaskHarness()
        harness.app.post("/endpoint") { (tasks: Tasks) in
            tasks.schedule(myTask)
            return ["status": "ok"]
        }
        let before = finished.events.count
        let response = try await serve(harness.app, harness, "/endpoint")
        #expect(response.status == .ok)
        #expect(String(decoding: response.body.bytes ?? [], as: UTF8.self) == #"{"status":"ok"}"#)
        #expect(await events(after: before, waitingFor: 1).contains("my_task"))
    }

    @Test func afterRouteAndAfterResponseAttributes() async throws {
        let harness = TaskHarness()
        harness.app.post("/example") { (tasks: Tasks) in
            tasks.afterRoute.schedule(cleanupTask)
            tasks.afterResponse.schedule(sendEmail)
            return ["status": "ok"]
        }
        let before = finished.events.count
        _ = try await serve(harness.app, harness, "/example")
        #expect(Set(await events(after: before, waitingFor: 2)) == ["cleanup_task", "send_email"])
    }

    @Test func immediateScheduleWithArguments() async throws {
        let harness = TaskHarness()
        harness.app.post("/immediate") { (tasks: Tasks) in
            let task = tasks.schedule(processData, "data_arg", "value")
            return try Response.json(["task_started": task.started.isSet])
        }
        let before = finished.events.count
        let response = try await serve(harness.app, harness, "/immediate")
        #expect(String(decoding: response.body.bytes ?? [], as: UTF8.self).hasPrefix(#"{"task_started":"#))
        #expect(await events(after: before, waitingFor: 1).contains("process_data data_arg value"))
    }

    @Test func configuredTask() async throws {
        let harness = TaskHarness()
        let handled = Gate()
        let myErrorHandler = TaskErrorHandler { task, _ in
            if task.config.name == "my_task" { handled.open() }
        }
        @Sendable func failing(_ arg1: Int, _ arg2: Int) async throws { throw TaskTestFailure("\(arg1 + arg2)") }
        let handle = Locked<ScheduledTask<Void>?>(nil)
        harness.app.post("/configured") { (tasks: Tasks) in
            handle.withLock {
                $0 = tasks.task(name: "my_task", shield: true, onError: myErrorHandler).schedule(failing, 1, 2)
            }
            return ["status": "ok"]
        }
        let response = try await serve(harness.app, harness, "/configured")
        #expect(response.status == .ok)
        await handled.wait()
        let task = try #require(handle.withLock { $0 })
        #expect(task.config.shield == true)
        await #expect(throws: TaskTestFailure("3")) { try await task.value }
    }

    @Test func batchExample() async throws {
        let harness = TaskHarness()
        let log = TaskEventLog()
        let handles = Locked<[ScheduledTask<Void>]>([])
        harness.app.post("/batch-example") { (tasks: Tasks) in
            let scheduled = [
                tasks.afterRoute.schedule({ () async in log.record("task1") }),
                tasks.afterRoute.task(name: "task2").schedule({ () async in log.record("task2") }),
                tasks.afterResponse.schedule({ () async in log.record("task3") }),
                tasks.afterResponse.task(shield: true).schedule({ () async in log.record("task4") }),
            ]
            handles.withLock { $0 = scheduled }
            return ["status": "ok"]
        }
        _ = try await serve(harness.app, harness, "/batch-example")
        await log.waitFor(count: 4)
        #expect(log.events == ["task1", "task2", "task3", "task4"])
        let scheduled = handles.withLock { $0 }
        #expect(scheduled[1].name == "task2")
        #expect(scheduled[3].config.shield == true)
    }

    @Test func completeExample() async throws {
        let harness = TaskHarness()
        let printed = TaskEventLog()
        let myErrorHandler = TaskErrorHandler { (task: any ScheduledTaskProtocol, error: any Error) async in
            printed.record("Task \(task.config.name ?? "-") failed: \(error)")
        }
        @Sendable func immediateTask(_ data: String) async { printed.record("Immediate: \(data)") }
        @Sendable func afterRouteTask(_ data: String) async { printed.record("After route: \(data)") }
        @Sendable func afterResponseTask(_ data: String) async throws {
            if data == "data6" { throw TaskTestFailure("mail server down") }
            printed.record("After response: \(data)")
        }
        harness.app.post("/comprehensive") { (tasks: Tasks) in
            tasks.schedule(immediateTask, "data1")
            tasks.task(name: "configured_immediate", onError: myErrorHandler).schedule(immediateTask, "data2")
            tasks.afterRoute.schedule(afterRouteTask, "data3")
            tasks.afterRoute.task(name: "configured_after_route", shield: true).schedule(afterRouteTask, "data4")
            tasks.afterResponse.schedule(afterResponseTask, "data5")
            tasks.afterResponse.task(name: "configured_after_response", onError: myErrorHandler)
                .schedule(afterResponseTask, "data6")
            return ["status": "ok"]
        }
        let response = try await serve(harness.app, harness, "/comprehensive")
        #expect(String(decoding: response.body.bytes ?? [], as: UTF8.self) == #"{"status":"ok"}"#)
        await printed.waitFor(count: 6)
        #expect(
            printed.events == [
                "Immediate: data1", "Immediate: data2",
                "After route: data3", "After route: data4",
                "After response: data5",
                "Task configured_after_response failed: TaskTestFailure(mail server down)",
            ])
    }

    @Test func typeHints() async throws {
        let harness = TaskHarness()
        let handle = Locked<ScheduledTask<[String: String]>?>(nil)
        harness.app.post("/typed") { (tasks: Tasks) in
            let task: ScheduledTask<[String: String]> = tasks.schedule(myFunction, 42, "hello")
            handle.withLock { $0 = task }
            return ["status": "ok"]
        }
        _ = try await serve(harness.app, harness, "/typed")
        let task = try #require(handle.withLock { $0 })
        #expect(try await task.value == ["x": "42", "y": "hello"])
    }

    @Test func handlerThatThrowsThroughTheRouterDiscards() async throws {
        let harness = TaskHarness()
        let handle = Locked<ScheduledTask<Void>?>(nil)
        let immediateRan = Gate()
        harness.app.post("/orders") { (tasks: Tasks) -> [String: String] in
            tasks.schedule({ () async in immediateRan.open() })
            handle.withLock { $0 = tasks.afterResponse.task(name: "confirmation").schedule({ () async in }) }
            throw TaskTestFailure("order rejected")
        }
        let response = try await serve(harness.app, harness, "/orders")
        #expect(response.status == .internalServerError)
        await immediateRan.wait()
        let task = try #require(handle.withLock { $0 })
        #expect(task.state == .discarded)
    }

    @Test func aUserDependencyAndTheHandlerShareTheScheduler() async throws {
        let harness = TaskHarness()
        let same = Locked<Bool?>(nil)
        harness.app.post("/orders") { (tasks: Tasks, audit: AuditTrail) in
            same.withLock { $0 = tasks.requestScope == audit.tasks.requestScope }
            return ["status": "ok"]
        }
        _ = try await serve(harness.app, harness, "/orders")
        #expect(same.withLock { $0 } == true)
    }
}

/// A user dependency that itself asks for ``Tasks``.
private struct AuditTrail: RequestDependency {
    let tasks: Tasks
    static func resolve(from request: Request) async throws -> AuditTrail {
        AuditTrail(tasks: try await Tasks.resolve(from: request))
    }
}
