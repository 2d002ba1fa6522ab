import Loopwork
import LoopworkTestSupport
import Testing

// Rule 9 (app defaults merged field by field; concurrency limit with FIFO waiting; one scheduler
// per request) and rule 10 (without addTasks, an app whose route asks for Tasks refuses to start).

@Suite(.timeLimit(.minutes(1)))
struct TaskConfigTests {
    @Test func perTaskValuesOverrideDefaultsOnlyWhereSet() {
        let handler = TaskErrorHandler { _, _ in }
        let defaults = TaskConfig(name: "default", shield: true, onError: handler, always: true)
        let unset = TaskConfig().merged(over: defaults)
        #expect(unset.name == "default")
        #expect(unset.shield == true)
        #expect(unset.onError != nil)
        #expect(unset.always == true)

        let explicit = TaskConfig(name: "mine", shield: false, always: false).merged(over: defaults)
        #expect(explicit.name == "mine")
        #expect(explicit.shield == false)
        #expect(explicit.isShielded == false)
        #expect(explicit.always == false)
        #expect(explicit.onError != nil)

        let noDefaults = TaskConfig().merged(over: TaskConfig())
        #expect(noDefaults.shield == nil)
        #expect(noDefaults.isShielded == false)
        #expect(noDefaults.runsAlways == false)
    }

    @Test func handleCarriesTheEffectiveConfig() async throws {
        let harness = TaskHarness(config: TaskConfig(shield: true))
        let (_, tasks) = try await harness.scheduler()
        let inherited = tasks.schedule({ () async in })
        let overridden = tasks.task(name: "unshielded", shield: false).schedule({ () async in })
        #expect(inherited.config.shield == true)
        #expect(overridden.config.shield == false)
        #expect(overridden.config.name == "unshielded")
        try await inherited.value
        try await overridden.value
    }

    @Test func aConfiguredBatchIsReusable() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler()
        let audit = tasks.task(name: "audit")
        let first = audit.schedule({ (n: Int) async in n }, 1)
        let second = audit.schedule({ (n: Int) in n }, 2)
        #expect(try await first.value == 1)
        #expect(try await second.value == 2)
        #expect(first.name == "audit" && second.name == "audit")
        #expect(audit.timing == .immediate)
        #expect(tasks.afterRoute.task().timing == .afterRoute)
    }

    @Test func configuringABatchAgainOverridesOnlyWhatIsSet() async throws {
        let harness = TaskHarness(config: TaskConfig(always: true))
        let (request, tasks) = try await harness.scheduler()
        let audit = tasks.afterRoute.task(name: "audit", shield: true)
        let refined = audit.task(shield: false, always: false)
        #expect(refined.timing == .afterRoute)
        #expect(refined.config.name == "audit")
        #expect(refined.config.shield == false)
        #expect(audit.config.shield == true)
        #expect(tasks.afterRoute.config.name == nil)
        let kept = audit.schedule({ () async in })
        let dropped = refined.schedule({ () async in })
        request.context.handlerFinished(succeeded: false)
        try await kept.value
        #expect(kept.name == "audit")
        #expect(kept.config.runsAlways)
        await #expect(throws: TaskDiscardedError.self) { try await dropped.value }
        #expect(dropped.state == .discarded)
    }

    @Test func excessTasksWaitInFIFOOrderAndNoneIsDropped() async throws {
        let harness = TaskHarness(maxConcurrentTasks: 2)
        let (_, tasks) = try await harness.scheduler()
        let log = TaskEventLog()
        let gates = (0..<6).map { _ in Gate() }
        var handles: [ScheduledTask<Int>] = []
        for index in 0..<6 {
            handles.append(
                tasks.schedule(
                    { (index: Int) async in
                        log.record("start \(index)")
                        await gates[index].wait()
                        return index
                    }, index))
        }
        await log.waitFor(count: 2)
        #expect(log.events == ["start 0", "start 1"])
        #expect(handles[2...].allSatisfy { $0.state == .pending })
        // Free slots one at a time, out of order: waiting tasks still start oldest first.
        gates[1].open()
        await log.waitFor(count: 3)
        gates[0].open()
        await log.waitFor(count: 4)
        #expect(log.events == ["start 0", "start 1", "start 2", "start 3"])
        for gate in gates { gate.open() }
        for (index, handle) in handles.enumerated() {
            #expect(try await handle.value == index)
        }
        #expect(log.events.count == 6)
    }

    @Test func theLimitAppliesAcrossRequestsAndToSyncWork() async throws {
        let harness = TaskHarness(maxConcurrentTasks: 1)
        let (_, first) = try await harness.scheduler(requestID: "a")
        let (_, second) = try await harness.scheduler(requestID: "b")
        let gate = TaskThreadGate()
        let blocking = first.schedule({ () in gate.wait() })
        let queued = second.schedule({ () async in "ran" })
        #expect(await blocking.started.wait())
        #expect(queued.state == .pending)
        gate.open()
        #expect(try await queued.value == "ran")
    }

    @Test func cancellingAWaitingTaskGivesItsTurnToTheNext() async throws {
        let harness = TaskHarness(maxConcurrentTasks: 1)
        let (_, tasks) = try await harness.scheduler()
        let gate = Gate()
        let running = tasks.schedule({ () async in await gate.wait() })
        let cancelled = tasks.schedule({ () async in "never" })
        let next = tasks.schedule({ () async in "next" })
        cancelled.cancel()
        gate.open()
        try await running.value
        #expect(try await next.value == "next")
        #expect(cancelled.state == .cancelled)
    }

    @Test func withoutAddTasksTheAppRefusesToStartNamingTheRoute() throws {
        let app = App(logger: TaskLogCapture().logger)
        app.post("/orders") { (tasks: Tasks) in ["status": "ok"] }
        let error = #expect(throws: AppConfigurationError.self) { try app.prepare() }
        #expect(error?.message.contains("POST /orders") == true)
        #expect(error?.message.contains("addTasks") == true)
    }

    @Test func withAddTasksTheAppStarts() throws {
        let app = App(logger: TaskLogCapture().logger)
        app.addTasks(metricsFactory: TaskTestMetrics())
        app.post("/orders") { (tasks: Tasks) in ["status": "ok"] }
        _ = try app.prepare()
    }

    @Test func aLimitBelowOneRefusesToStart() throws {
        let app = App(logger: TaskLogCapture().logger)
        app.addTasks(maxConcurrentTasks: 0, metricsFactory: TaskTestMetrics())
        #expect(throws: AppConfigurationError.self) { try app.prepare() }
    }
}
