import Loopwork
import LoopworkTestSupport
import LoopworkUV
import Testing

// Rule 3 (nothing awaited; immediate / after-route / after-response moments), rule 4 (order),
// rule 6 (client gone: after-response still runs, once) and rule 7 (late additions start at once).

@Suite(.timeLimit(.minutes(1)))
struct TaskTimingTests {
    @Test func immediateTaskStartsWhileTheHandlerIsStillRunning() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler()
        let ran = Gate()
        let task = tasks.schedule({ () async in ran.open() })
        // The "handler" is suspended here and has not finished: the task runs anyway.
        await ran.wait()
        #expect(task.started.isSet)
    }

    @Test func afterRouteStartsWhenTheHandlerReturnsBeforeTheResponse() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        let task = tasks.afterRoute.schedule({ () async in })
        #expect(task.state == .pending)
        request.context.handlerFinished(succeeded: true)
        // No response milestone yet: it starts anyway.
        #expect(await task.started.wait())
        try await task.value
    }

    @Test func aHandlerReturningAfterItsResponseStaysFailed() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        let task = tasks.afterRoute.schedule({ () async in })
        // Answered first (a timeout, say), then the handler returns.
        request.context.responseFinished(delivered: true)
        request.context.handlerFinished(succeeded: true)
        let late = MilestoneRecorder()
        request.context.addObserver(late)
        #expect(late.recorded == ["handler-failed", "delivered"])
        // Discarded with the failed handler, and not started by the late one.
        #expect(task.state == .discarded)
        await #expect(throws: TaskDiscardedError.self) { try await task.value }
    }

    @Test func afterResponseStartsOnlyWhenTheResponseFinished() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        let task = tasks.afterResponse.schedule({ () async in })
        request.context.handlerFinished(succeeded: true)
        // Prove the handler milestone was processed (an after-route task ran) while the
        // after-response task still waits.
        let marker = tasks.afterRoute.schedule({ () async in })
        try await marker.value
        #expect(task.state == .pending)
        request.context.responseFinished(delivered: true)
        #expect(await task.started.wait())
        try await task.value
    }

    @Test func startOrderIsImmediateThenAfterRouteThenAfterResponseWhateverTheCallOrder() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        let log = TaskEventLog()
        tasks.afterResponse.schedule({ (name: String) async in log.record(name) }, "after-response")
        tasks.afterRoute.schedule({ (name: String) async in log.record(name) }, "after-route")
        tasks.schedule({ (name: String) async in log.record(name) }, "immediate")
        request.context.handlerFinished(succeeded: true)
        request.context.responseFinished(delivered: true)
        await log.waitFor(count: 3)
        #expect(log.events == ["immediate", "after-route", "after-response"])
    }

    @Test func batchStartsInFIFOOrderAndItsTasksRunConcurrently() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        let log = TaskEventLog()
        let second = Gate()
        // The first task waits for the second: it only finishes if they run concurrently.
        let first = tasks.afterRoute.schedule({ () async in
            log.record("1")
            await second.wait()
        })
        for index in 2...5 {
            tasks.afterRoute.schedule(
                { (index: Int) async in
                    log.record("\(index)")
                    if index == 2 { second.open() }
                }, index)
        }
        request.context.handlerFinished(succeeded: true)
        try await first.value
        await log.waitFor(count: 5)
        #expect(log.events == ["1", "2", "3", "4", "5"])
    }

    @Test func tasksOutliveTheRequest() async throws {
        let harness = TaskHarness()
        let gate = Gate()
        var handles: [ScheduledTask<Void>] = []
        do {
            let (request, tasks) = try await harness.scheduler()
            handles.append(tasks.schedule({ () async in await gate.wait() }))
            handles.append(tasks.afterResponse.schedule({ () async in await gate.wait() }))
            request.context.handlerFinished(succeeded: true)
            request.context.responseFinished(delivered: true)
        }
        // The request is over; its tasks still run to their end.
        gate.open()
        for handle in handles { try await handle.value }
    }

    @Test func clientGoneBeforeTheWriteStillRunsAfterResponseTasksOnce() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        let runs = Locked(0)
        let task = tasks.afterResponse.schedule({ () async in runs.withLock { $0 += 1 } })
        request.context.handlerFinished(succeeded: true)
        request.context.responseFinished(delivered: false)
        request.context.responseFinished(delivered: false)
        try await task.value
        // Drain waits for every tracked task, so a second run would be counted here.
        await harness.drain()
        #expect(runs.withLock { $0 } == 1)
        #expect(harness.metrics.counter("started", .afterResponse) == 1)
    }

    @Test func lateAdditionToAStartedAfterRouteBatchStartsAtOnce() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        request.context.handlerFinished(succeeded: true)
        let late = tasks.afterRoute.schedule({ () async in "late" })
        #expect(try await late.value == "late")
    }

    @Test func lateAdditionToAStartedAfterResponseBatchStartsAtOnce() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        let inner = Locked<ScheduledTask<String>?>(nil)
        // An after-response task schedules another after-response task: the batch already
        // started, so the new task starts at once (the original drops it).
        let outer = tasks.afterResponse.schedule({ () async in
            inner.withLock { $0 = tasks.afterResponse.schedule({ () async in "added late" }) }
        })
        request.context.handlerFinished(succeeded: true)
        request.context.responseFinished(delivered: true)
        try await outer.value
        let added = try #require(inner.withLock { $0 })
        #expect(try await added.value == "added late")
    }

    @Test func afterResponseAddedAfterTheHandlerWaitsForTheResponse() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        request.context.handlerFinished(succeeded: true)
        let task = tasks.afterResponse.schedule({ () async in })
        let marker = tasks.schedule({ () async in })
        try await marker.value
        #expect(task.state == .pending)
        request.context.responseFinished(delivered: true)
        try await task.value
    }

    @Test func everyDependencyOfARequestGetsTheSameScheduler() async throws {
        let harness = TaskHarness()
        let request = harness.request()
        let first = try await Tasks.resolve(from: request)
        let second = try await Tasks.resolve(from: request)
        #expect(first.requestScope == second.requestScope)
        let other = try await Tasks.resolve(from: harness.request(requestID: "req-2"))
        #expect(first.requestScope != other.requestScope)
        // One scope told of the milestones: after-route tasks start once.
        let task = second.afterRoute.schedule({ () async in })
        request.context.handlerFinished(succeeded: true)
        try await task.value
        #expect(harness.metrics.counter("started", .afterRoute) == 1)
    }
}
