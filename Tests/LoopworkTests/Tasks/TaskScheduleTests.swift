import Loopwork
import LoopworkUV
import Testing

// Rule 1 (schedule takes any function with type-checked arguments and returns a handle) and
// rule 2 (async functions on the loop executor, sync functions on the blocking pool).

@Sendable private func add(_ a: Int, _ b: Int) async -> Int { a + b }
@Sendable private func greet(_ name: String, _ times: Int) -> String { String(repeating: "hi \(name) ", count: times) }
@Sendable private func noArguments() async {}
@Sendable private func failsAsync(_ reason: String) async throws -> Int { throw TaskTestFailure(reason) }
@Sendable private func failsSync() throws -> Bool { throw TaskTestFailure("sync") }

private struct Summary: Sendable, Equatable {
    let count: Int
    let label: String
}

@Suite(.timeLimit(.minutes(1)))
struct TaskScheduleTests {
    @Test func asyncSyncThrowingAndAnyReturnTypeAreTypedResults() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler()
        let sum: ScheduledTask<Int> = tasks.schedule(add, 2, 3)
        let text: ScheduledTask<String> = tasks.schedule(greet, "ada", 2)
        let nothing: ScheduledTask<Void> = tasks.schedule(noArguments)
        let summary: ScheduledTask<Summary> = tasks.schedule(
            { (count: Int, label: String) async in
                Summary(count: count, label: label)
            }, 7, "seven")
        let failing: ScheduledTask<Int> = tasks.schedule(failsAsync, "boom")
        let failingSync: ScheduledTask<Bool> = tasks.schedule(failsSync)

        #expect(try await sum.value == 5)
        #expect(try await text.value == "hi ada hi ada ")
        try await nothing.value
        #expect(try await summary.value == Summary(count: 7, label: "seven"))
        await #expect(throws: TaskTestFailure("boom")) { try await failing.value }
        await #expect(throws: TaskTestFailure("sync")) { try await failingSync.value }
        #expect(sum.state == .succeeded)
        #expect(failing.state == .failed)
        #expect(failingSync.state == .failed)
    }

    /// The record keeps results type-erased; optionals, existentials and classes come back as
    /// they were returned, `nil` included.
    @Test func resultsOfOptionalExistentialAndClassTypesKeepTheirValues() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler()
        let none: ScheduledTask<Int?> = tasks.schedule({ () async -> Int? in nil })
        let some: ScheduledTask<Int?> = tasks.schedule({ () -> Int? in 4 })
        let nested: ScheduledTask<Int??> = tasks.schedule({ () async -> Int?? in .some(nil) })
        let existential: ScheduledTask<any Sendable> = tasks.schedule({ () async -> any Sendable in "text" })
        let object = Locked(7)
        let shared: ScheduledTask<Locked<Int>> = tasks.schedule({ () async in object })

        #expect(try await none.value == nil)
        #expect(try await some.value == 4)
        let nestedValue = try await nested.value
        #expect(nestedValue == .some(nil))
        #expect(try await existential.value as? String == "text")
        #expect(try await shared.value.withLock { $0 } == 7)
    }

    @Test func handleExposesConfigTimingAndState() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler(requestID: "req-42")
        let task = tasks.afterResponse.task(name: "mail", shield: true).schedule(noArguments)
        #expect(task.config.name == "mail")
        #expect(task.config.shield == true)
        #expect(task.config.onError == nil)
        #expect(task.timing == .afterResponse)
        #expect(task.name == "mail")
        #expect(task.requestID == "req-42")
        #expect(task.route == "/orders")
        #expect(task.state == .pending)
        #expect(!task.started.isSet)
        request.context.handlerFinished(succeeded: true)
        request.context.responseFinished(delivered: true)
        #expect(await task.started.wait())
        try await task.value
        #expect(task.state == .succeeded)
    }

    @Test func unnamedTaskIsNamedByWhereItWasScheduled() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler()
        let task = tasks.schedule(noArguments)
        #expect(task.config.name == nil)
        #expect(task.name.hasPrefix("LoopworkTests/TaskScheduleTests.swift:"))
        try await task.value
    }

    @Test func startedIsSetAlsoWhenTheTaskThenFails() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler()
        let task = tasks.schedule(failsAsync, "after start")
        #expect(await task.started.wait())
        _ = await task.result
        #expect(task.started.isSet)
        #expect(task.state == .failed)
    }

    @Test func asyncFunctionRunsOnTheLoopAndSyncFunctionOnThePool() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler()
        let loop = harness.host.loop
        let onLoopAsync = tasks.schedule({ () async in loop.isCurrent })
        let onLoopSync = tasks.schedule({ () in loop.isCurrent })
        #expect(try await onLoopAsync.value == true)
        #expect(try await onLoopSync.value == false)
        #expect(harness.host.pool.startedCount == 1)
    }

    @Test func blockedSyncTaskDoesNotBlockTheLoop() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler()
        let gate = TaskThreadGate()
        let blocked = tasks.schedule({ () in gate.wait() })
        #expect(await blocked.started.wait())
        // The loop still runs async tasks while the pool thread is blocked.
        let other = tasks.schedule({ () async in 42 })
        #expect(try await other.value == 42)
        #expect(blocked.state == .running)
        gate.open()
        try await blocked.value
        #expect(blocked.state == .succeeded)
    }

    @Test func cancelPendingTaskNeverRunsAndReleasesWaiters() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        let ran = Locked(false)
        let task = tasks.afterResponse.schedule({ () async in ran.withLock { $0 = true } })
        task.cancel()
        #expect(task.state == .cancelled)
        #expect(await task.started.wait() == false)
        await #expect(throws: CancellationError.self) { try await task.value }
        request.context.handlerFinished(succeeded: true)
        request.context.responseFinished(delivered: true)
        let after = tasks.schedule(noArguments)
        try await after.value
        #expect(ran.withLock { $0 } == false)
    }

    @Test func cancelRunningAsyncTaskIsCooperative() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler()
        let task = tasks.schedule({ () async throws in try await Task.sleep(for: .seconds(3600)) })
        #expect(await task.started.wait())
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(task.state == .cancelled)
    }

    @Test func cancelQueuedSyncWorkWithdrawsIt() async throws {
        let harness = TaskHarness(poolThreads: 1)
        let (_, tasks) = try await harness.scheduler()
        harness.host.pool.hold()
        let task = tasks.schedule({ () in 1 })
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(task.state == .cancelled)
        harness.host.pool.release()
        let next = tasks.schedule({ () in 2 })
        #expect(try await next.value == 2)
        #expect(harness.host.pool.startedCount == 1)
    }

    @Test func cancelAfterSuccessChangesNothing() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler()
        let task = tasks.schedule(add, 1, 1)
        #expect(try await task.value == 2)
        task.cancel()
        #expect(task.state == .succeeded)
        #expect(try await task.value == 2)
    }
}
