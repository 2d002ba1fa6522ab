import Logging
import Loopwork
import LoopworkTestSupport
import LoopworkUV
import Testing

// Rule 11: at shutdown, unshielded tasks are cancelled (queued blocking work withdrawn), shielded
// tasks and running blocking work are awaited up to the deadline, and one summary line says
// what was completed, cancelled and abandoned.

@Suite(.timeLimit(.minutes(1)))
struct TaskShutdownTests {
    @Test func shutdownCancelsUnshieldedAndAwaitsShielded() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler()
        let release = Gate()
        let unshielded = tasks.task(name: "sleeper").schedule({ () async throws in
            try await Task.sleep(for: .seconds(3600))
        })
        let shielded = tasks.task(name: "ledger", shield: true).schedule({ () async in
            await release.wait()
            return "saved"
        })
        #expect(await unshielded.started.wait())
        #expect(await shielded.started.wait())

        async let drained: Void = harness.drain()
        // The unshielded task's cancellation proves the drain began; the shielded one is awaited.
        _ = await unshielded.result
        #expect(unshielded.state == .cancelled)
        #expect(shielded.state == .running)
        release.open()
        await drained
        #expect(try await shielded.value == "saved")

        let summary = harness.logs.entries(containing: "background tasks drained")
        try #require(summary.count == 1)
        #expect(summary[0].level == .info)
        #expect(summary[0].metadata["completed"] == "1")
        #expect(summary[0].metadata["cancelled"] == "1")
        #expect(summary[0].metadata["abandoned"] == "0")
    }

    @Test func queuedBlockingWorkIsWithdrawnUnlessShielded() async throws {
        let harness = TaskHarness(poolThreads: 1)
        let (_, tasks) = try await harness.scheduler()
        harness.host.pool.hold()
        let ran = Locked<[String]>([])
        let unshielded = tasks.schedule({ () in ran.withLock { $0.append("unshielded") } })
        let shielded = tasks.task(shield: true).schedule({ () in ran.withLock { $0.append("shielded") } })

        async let drained: Void = harness.drain()
        await #expect(throws: CancellationError.self) { try await unshielded.value }
        harness.host.pool.release()
        await drained
        try await shielded.value
        #expect(ran.withLock { $0 } == ["shielded"])
        let summary = try #require(harness.logs.entries(containing: "background tasks drained").first)
        #expect(summary.metadata["completed"] == "1")
        #expect(summary.metadata["cancelled"] == "1")
    }

    @Test func runningBlockingWorkIsAwaited() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler()
        let gate = TaskThreadGate()
        let blocking = tasks.schedule({ () in
            gate.wait()
            return "done"
        })
        let marker = tasks.schedule({ () async throws in try await Task.sleep(for: .seconds(3600)) })
        #expect(await blocking.started.wait())
        #expect(await marker.started.wait())

        async let drained: Void = harness.drain()
        _ = await marker.result
        #expect(blocking.state == .running)
        gate.open()
        await drained
        #expect(try await blocking.value == "done")
        let summary = try #require(harness.logs.entries(containing: "background tasks drained").first)
        #expect(summary.metadata["completed"] == "1")
        #expect(summary.metadata["cancelled"] == "1")
        #expect(summary.metadata["abandoned"] == "0")
    }

    @Test func theDeadlineIsRespectedAndAbandonedTasksAreNamed() async throws {
        let harness = TaskHarness(shutdownDeadline: .milliseconds(50))
        let (_, tasks) = try await harness.scheduler()
        let release = Gate()
        let stuck = tasks.task(name: "stuck", shield: true).schedule({ () async in await release.wait() })
        #expect(await stuck.started.wait())

        await harness.drain()
        #expect(stuck.state == .running)
        let summary = try #require(harness.logs.entries(containing: "background tasks drained").first)
        #expect(summary.level == .warning)
        #expect(summary.metadata["abandoned"] == "1")
        #expect(summary.metadata["abandoned-tasks"]?.contains("stuck") == true)
        release.open()
        try await stuck.value
    }

    @Test func dueAfterResponseTasksAreStartedThenCancelledUnlessShielded() async throws {
        let harness = TaskHarness()
        let (request, tasks) = try await harness.scheduler()
        let unshielded = tasks.afterResponse.schedule({ () async throws in try await Task.sleep(for: .seconds(3600)) })
        let shielded = tasks.afterResponse.task(shield: true).schedule({ () async in "mailed" })
        request.context.handlerFinished(succeeded: true)
        request.context.responseFinished(delivered: true)
        await harness.drain()
        #expect(unshielded.state == .cancelled)
        #expect(try await shielded.value == "mailed")
    }

    @Test func tasksScheduledDuringShutdownAreCancelledUnlessShielded() async throws {
        let harness = TaskHarness()
        let (_, tasks) = try await harness.scheduler()
        await harness.drain()
        let late = tasks.schedule({ () async in "late" })
        let shieldedLate = tasks.task(shield: true).schedule({ () async in "shielded" })
        await #expect(throws: CancellationError.self) { try await late.value }
        #expect(try await shieldedLate.value == "shielded")
    }

    @Test func emptyDrainLogsOneSummaryLine() async throws {
        let harness = TaskHarness()
        await harness.drain()
        let summary = harness.logs.entries(containing: "background tasks drained")
        try #require(summary.count == 1)
        #expect(summary[0].metadata["completed"] == "0")
        #expect(summary[0].metadata["cancelled"] == "0")
        #expect(summary[0].metadata["abandoned"] == "0")
    }
}
