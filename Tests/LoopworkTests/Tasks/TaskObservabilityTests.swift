import Logging
import Loopwork
import Testing

// Rule 12: counters per event and timing, queue-wait and run-duration timers, task name and
// request id in log metadata.

@Suite(.timeLimit(.minutes(1)))
struct TaskObservabilityTests {
    @Test func countersAndTimersPerTiming() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        let ok = tasks.schedule({ () async in })
        let failing = tasks.schedule({ () async throws in throw TaskTestFailure("x") })
        let sync = tasks.afterRoute.schedule({ () in 1 })
        let cancelled = tasks.afterResponse.schedule({ () async in })
        let afterResponse = tasks.afterResponse.schedule({ () async in })
        cancelled.cancel()
        request.context.handlerFinished(succeeded: true)
        request.context.responseFinished(delivered: true)
        try await ok.value
        _ = await failing.result
        _ = try await sync.value
        try await afterResponse.value

        let (failedRequest, failedTasks) = try await harness.scheduler(requestID: "req-2")
        let discarded = failedTasks.afterRoute.schedule({ () async in })
        failedRequest.context.handlerFinished(succeeded: false)
        #expect(discarded.state == .discarded)

        let metrics = harness.metrics
        #expect(metrics.counter("scheduled", .immediate) == 2)
        #expect(metrics.counter("started", .immediate) == 2)
        #expect(metrics.counter("succeeded", .immediate) == 1)
        #expect(metrics.counter("failed", .immediate) == 1)
        #expect(metrics.counter("scheduled", .afterRoute) == 2)
        #expect(metrics.counter("succeeded", .afterRoute) == 1)
        #expect(metrics.counter("discarded", .afterRoute) == 1)
        #expect(metrics.counter("scheduled", .afterResponse) == 2)
        #expect(metrics.counter("cancelled", .afterResponse) == 1)
        #expect(metrics.counter("started", .afterResponse) == 1)
        #expect(metrics.timerSamples("loopwork_task_queue_wait_seconds", .immediate).count == 2)
        #expect(metrics.timerSamples("loopwork_task_run_duration_seconds", .immediate).count == 2)
        #expect(metrics.timerSamples("loopwork_task_run_duration_seconds", .afterRoute).count == 1)
        #expect(metrics.timerSamples("loopwork_task_queue_wait_seconds", .afterResponse).allSatisfy { $0 >= 0 })
    }

    @Test func taskNameAndRequestIDAreInLogMetadata() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler(requestID: "req-99")
        let task = tasks.task(name: "named").schedule({ () async throws in throw TaskTestFailure("x") })
        _ = await task.result
        let line = try #require(harness.logs.entries(level: .error).first)
        #expect(line.metadata["task"] == "named")
        #expect(line.metadata["request-id"] == "req-99")
    }
}
