import Logging
import Loopwork
import LoopworkTestSupport
import LoopworkUV
import Testing

// Rule 5 (handler throws: later tasks discarded, never silently; `always` runs them) and
// rule 8 (task errors logged without arguments, then the task's handler or the app default;
// a throwing error handler affects nothing else).

@Sendable private func chargeCard(_ cardNumber: String) async throws { throw TaskTestFailure("card declined") }
@Sendable private func chargeCardSync(_ cardNumber: String) throws { throw TaskTestFailure("sync declined") }

/// Records what error handlers received.
private final class HandlerRecord: Sendable {
    let calls = Locked<[(name: String, state: ScheduledTaskState, error: String)]>([])

    var handler: TaskErrorHandler {
        TaskErrorHandler { task, error in
            self.calls.withLock { $0.append((task.name, task.state, "\(error)")) }
        }
    }

    var asyncHandler: TaskErrorHandler {
        TaskErrorHandler { (task: any ScheduledTaskProtocol, error: any Error) async in
            await Task.yield()
            self.calls.withLock { $0.append((task.name, task.state, "\(error)")) }
        }
    }

    var names: [String] { calls.withLock { $0.map(\.name) } }
}

@Suite(.timeLimit(.minutes(1)))
struct TaskFailureTests {
    @Test func handlerThrowsDiscardsLaterTasksWithADebugLineNamingThem() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        let immediate = tasks.task(name: "reserve").schedule({ () async in })
        let afterRoute = tasks.afterRoute.task(name: "warm-cache").schedule({ () async in })
        let afterResponse = tasks.afterResponse.task(name: "send-email").schedule({ () async in })
        request.context.handlerFinished(succeeded: false)
        request.context.responseFinished(delivered: true)

        try await immediate.value
        #expect(afterRoute.state == .discarded)
        #expect(afterResponse.state == .discarded)
        #expect(await afterRoute.started.wait() == false)
        await #expect(throws: TaskDiscardedError.self) { try await afterResponse.value }
        let lines = harness.logs.entries(containing: "discarded background tasks")
        try #require(lines.count == 1)
        #expect(lines[0].level == .debug)
        #expect(lines[0].metadata["tasks"] == "warm-cache (after-route), send-email (after-response)")
        #expect(lines[0].metadata["request-id"] == "req-1")
        #expect(harness.metrics.counter("discarded", .afterRoute) == 1)
        #expect(harness.metrics.counter("discarded", .afterResponse) == 1)
    }

    @Test func alwaysRunsAfterRouteAndAfterResponseTasksWhenTheHandlerThrew() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        let afterRoute = tasks.afterRoute.task(name: "audit", always: true).schedule({ () async in "audited" })
        let afterResponse = tasks.afterResponse.task(always: true).schedule({ () in "released" })
        let dropped = tasks.afterResponse.schedule({ () async in "dropped" })
        request.context.handlerFinished(succeeded: false)
        #expect(try await afterRoute.value == "audited")
        #expect(afterResponse.state == .pending)
        request.context.responseFinished(delivered: true)
        #expect(try await afterResponse.value == "released")
        #expect(dropped.state == .discarded)
    }

    @Test func appDefaultAlwaysAppliesAndAnExplicitFalseOverridesIt() async throws {
        let harness = TaskHarness(config: TaskConfig(always: true))
        let (request, tasks) = try await harness.scheduler()
        let inherits = tasks.afterRoute.schedule({ () async in })
        let optsOut = tasks.afterRoute.task(always: false).schedule({ () async in })
        request.context.handlerFinished(succeeded: false)
        try await inherits.value
        #expect(optsOut.state == .discarded)
    }

    @Test func lateAdditionAfterAFailedHandlerIsDiscardedAtOnce() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        request.context.handlerFinished(succeeded: false)
        let late = tasks.afterResponse.task(name: "late").schedule({ () async in })
        #expect(late.state == .discarded)
        #expect(harness.logs.entries(containing: "discarded background tasks").count == 1)
    }

    @Test func failingTaskIsLoggedWithoutItsArgumentsThenReachesItsHandler() async throws {
        let harness = TaskHarness()
        let record = HandlerRecord()
        let (_, tasks) = try await harness.scheduler(requestID: "req-7")
        let task = tasks.task(name: "charge", onError: record.asyncHandler).schedule(chargeCard, "4111-1111-1111-1111")
        await #expect(throws: TaskTestFailure("card declined")) { try await task.value }

        let errors = harness.logs.entries(level: .error)
        try #require(errors.count == 1)
        #expect(errors[0].message == "background task failed")
        #expect(errors[0].metadata["task"] == "charge")
        #expect(errors[0].metadata["timing"] == "immediate")
        #expect(errors[0].metadata["route"] == "/orders")
        #expect(errors[0].metadata["request-id"] == "req-7")
        #expect(errors[0].metadata["error"]?.contains("card declined") == true)
        for entry in harness.logs.all {
            #expect(!entry.message.contains("4111"))
            #expect(!entry.metadata.values.contains { $0.contains("4111") })
        }
        let calls = record.calls.withLock { $0 }
        try #require(calls.count == 1)
        #expect(calls[0].name == "charge")
        #expect(calls[0].state == .failed)
        #expect(calls[0].error == "TaskTestFailure(card declined)")
    }

    @Test func failingSyncTaskReachesItsSyncHandler() async throws {
        let harness = TaskHarness()
        let record = HandlerRecord()
        let (_, tasks) = try await harness.scheduler()
        let task = tasks.task(name: "sync-charge", onError: record.handler).schedule(chargeCardSync, "4111")
        await #expect(throws: TaskTestFailure("sync declined")) { try await task.value }
        #expect(record.names == ["sync-charge"])
        #expect(harness.logs.entries(level: .error).count == 1)
    }

    @Test func withoutATaskHandlerTheAppDefaultRuns() async throws {
        let appDefault = HandlerRecord()
        let own = HandlerRecord()
        let harness = TaskHarness(config: TaskConfig(onError: appDefault.handler))
        let (_, tasks) = try await harness.scheduler()
        let plain = tasks.task(name: "plain").schedule(chargeCard, "x")
        let custom = tasks.task(name: "custom", onError: own.handler).schedule(chargeCard, "y")
        _ = await plain.result
        _ = await custom.result
        #expect(appDefault.names == ["plain"])
        #expect(own.names == ["custom"])
    }

    @Test func aThrowingErrorHandlerIsLoggedAndAffectsNothingElse() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler()
        let throwing = TaskErrorHandler { _, _ in throw TaskTestFailure("handler broke") }
        let gate = Gate()
        let bystander = tasks.task(name: "bystander").schedule({ () async in
            await gate.wait()
            return 1
        })
        let failing = tasks.task(name: "failing", onError: throwing).schedule(chargeCard, "z")
        await #expect(throws: TaskTestFailure("card declined")) { try await failing.value }
        #expect(failing.state == .failed)
        let handlerLines = harness.logs.entries(containing: "error handler failed")
        try #require(handlerLines.count == 1)
        #expect(handlerLines[0].level == .error)
        #expect(handlerLines[0].metadata["task"] == "failing")
        #expect(handlerLines[0].metadata["error"]?.contains("handler broke") == true)
        // Other tasks, and later requests, are untouched.
        gate.open()
        #expect(try await bystander.value == 1)
        let (_, nextTasks) = try await harness.scheduler(requestID: "req-2")
        #expect(try await nextTasks.schedule({ () async in 2 }).value == 2)
    }

    @Test func failingAfterResponseTaskNamesItsTimingAndRoute() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        let task = tasks.afterResponse.task(name: "mail").schedule(chargeCard, "x")
        request.context.handlerFinished(succeeded: true)
        request.context.responseFinished(delivered: true)
        _ = await task.result
        let errors = harness.logs.entries(level: .error)
        try #require(errors.count == 1)
        #expect(errors[0].metadata["timing"] == "after-response")
        #expect(errors[0].metadata["route"] == "/orders")
    }
}
