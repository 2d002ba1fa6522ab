import HTTPTypes
import Logging
import Loopwork
import LoopworkTestSupport
import LoopworkTesting
import LoopworkUV
import Testing

// Shutdown through the app: the in-flight request finishes, its unshielded running task is
// cancelled cooperatively, its shielded task is awaited, and `addTasks(shutdownDeadline:)`
// bounds the wait.

@Suite(.timeLimit(.minutes(1)))
struct TasksE2EShutdownTests {
    @Test func shutdownCancelsUnshieldedAndAwaitsShieldedTasksOfAnInFlightRequest() async throws {
        let logs = EndToEndLogs()
        let gates = Gates()
        let sleeper = Captured<ScheduledTask<String>>()
        let ledger = Captured<ScheduledTask<String>>()
        let receipt = Captured<ScheduledTask<String>>()
        let sawCancellation = Gate()
        let app = App(configuration: EndToEnd.oneWorker, logger: logs.logger)
        app.addTasks(shutdownDeadline: .seconds(30))
        app.post("/work") { (tasks: Tasks) in
            sleeper.set(
                tasks.task(name: "sleeper").schedule({ () async throws -> String in
                    do {
                        try await Task.sleep(for: .seconds(3600))
                    } catch {
                        if Task.isCancelled, error is CancellationError { sawCancellation.open() }
                        throw error
                    }
                    return "woke"
                }))
            ledger.set(
                tasks.task(name: "ledger", shield: true).schedule({ () async -> String in
                    await gates["ledger"].wait()
                    return Task.isCancelled ? "cancelled" : "saved"
                }))
            receipt.set(tasks.afterResponse.task(name: "receipt", shield: true).schedule({ () async in "mailed" }))
            gates["arrived"].open()
            await gates["handler"].wait()
            return "done"
        }
        let running = try await app.start(host: "127.0.0.1", port: 0)
        let socket = try TestSocket(port: running.port)
        try await socket.send(EndToEnd.request("/work", method: "POST"))
        await gates["arrived"].wait()
        let sleeperTask = await sleeper.value
        let ledgerTask = await ledger.value
        #expect(await sleeperTask.started.wait())
        #expect(await ledgerTask.started.wait())

        let stopped = Gate()
        let shutdown = Task {
            await running.shutdown()
            stopped.open()
        }
        await logs.waitFor("draining connections")
        // Shutdown waits for the in-flight request: its handler is still running.
        #expect(sleeperTask.state == .running)
        gates["handler"].open()
        let answer = String(decoding: try await socket.receiveUntilClosed(), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 200"))
        #expect(answer.hasSuffix("done"))

        await #expect(throws: CancellationError.self) { try await sleeperTask.value }
        #expect(sleeperTask.state == .cancelled)
        #expect(sawCancellation.isOpen, "the task observed its cancellation")
        #expect(ledgerTask.state == .running)
        #expect(!stopped.isOpen, "shutdown awaits the shielded task")

        gates["ledger"].open()
        await shutdown.value
        #expect(try await ledgerTask.value == "saved")
        #expect(try await receipt.value.value == "mailed", "due after-response work started")
        let summary = try #require(logs.entries("background tasks drained").first)
        #expect(summary.level == .info)
        #expect(summary.metadata["cancelled"] == "1")
        #expect(summary.metadata["abandoned"] == "0")
    }

    @Test func shieldedTaskThatNeverEndsIsAbandonedAtTheDeadline() async throws {
        let logs = EndToEndLogs()
        let release = Gate()
        let stuck = Captured<ScheduledTask<Void>>()
        let app = App(configuration: EndToEnd.oneWorker, logger: logs.logger)
        app.addTasks(shutdownDeadline: .milliseconds(300))
        app.post("/stuck") { (tasks: Tasks) in
            stuck.set(tasks.task(name: "stuck", shield: true).schedule({ () async in await release.wait() }))
            return "accepted"
        }
        let running = try await app.start(host: "127.0.0.1", port: 0)
        #expect(try await EndToEnd.fetch(running.port, "POST", "/stuck").text == "accepted")
        let task = await stuck.value
        #expect(await task.started.wait())

        let clock = ContinuousClock()
        let began = clock.now
        await running.shutdown()
        let took = clock.now - began
        #expect(took >= .milliseconds(300), "the shielded task was awaited up to the deadline")
        #expect(took < .seconds(10), "and not longer")
        #expect(task.state == .running)
        let summary = try #require(logs.entries("background tasks drained").first)
        #expect(summary.level == .warning)
        #expect(summary.metadata["abandoned"] == "1")
        #expect(summary.metadata["abandoned-tasks"]?.contains("stuck") == true)

        // Its loop is gone; the task still finishes (on the stopped loop's fallback queue).
        release.open()
        try await task.value
    }

    @Test func blockingTaskThatNeverEndsIsAbandonedAtTheDeadline() async throws {
        let logs = EndToEndLogs()
        let gate = TaskThreadGate()
        let stuck = Captured<ScheduledTask<Void>>()
        let app = App(configuration: EndToEnd.oneWorker, logger: logs.logger)
        app.addTasks(shutdownDeadline: .milliseconds(300))
        app.post("/stuck") { (tasks: Tasks) in
            stuck.set(tasks.task(name: "stuck-sync").schedule({ () in gate.wait() }))
            return "accepted"
        }
        let running = try await app.start(host: "127.0.0.1", port: 0)
        #expect(try await EndToEnd.fetch(running.port, "POST", "/stuck").text == "accepted")
        let task = await stuck.value
        #expect(await task.started.wait())

        let clock = ContinuousClock()
        let began = clock.now
        let stopped = Gate()
        let shutdown = Task {
            await running.shutdown()
            stopped.open()
        }
        await logs.waitFor("background tasks drained")
        let summary = try #require(logs.entries("background tasks drained").first)
        #expect(clock.now - began >= .milliseconds(300))
        #expect(summary.metadata["abandoned"] == "1")
        #expect(summary.metadata["abandoned-tasks"]?.contains("stuck-sync") == true)
        // Running sync work cannot be interrupted; the drain gave up on it at the deadline.
        #expect(task.state == .running)

        // Shutdown should now return without the blocking function. The bound below only turns a
        // hang into a failure; the passing path never waits for it.
        let timedOut = Locked(false)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await stopped.wait() }
            group.addTask {
                try? await Task.sleep(for: .seconds(5))
                guard !Task.isCancelled, !stopped.isOpen else { return }
                // Decided before the gate opens: the shutdown it frees must not count as returned.
                timedOut.withLock { $0 = true }
                gate.open()  // let the stuck shutdown finish, so the test does not hang
            }
            await group.next()
            group.cancelAll()
        }
        let returned = !timedOut.withLock { $0 }
        #expect(returned, "shutdown returned while the blocking task was still running")
        gate.open()
        await shutdown.value
        #expect(stopped.isOpen)
    }
}
