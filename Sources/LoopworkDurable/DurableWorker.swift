import Logging
import LoopworkPostgres
import LoopworkUV

/// Runs this instance's share of the queue: claims runnable jobs (woken by `NOTIFY`, or by its
/// poll interval), runs each on the loop under its time limit, and records how it ended.
actor DurableWorker {
    nonisolated let loop: EventLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    private let queue: DurableQueue
    private let pool: PostgresPool
    private let logger: Logger
    private var running: [String: RunningJob] = [:]
    private var runningByName: [String: Int] = [:]
    private var stopping = false
    private var wakeRequested = false
    private var wakeWaiter: CheckedContinuation<Void, Never>?
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private var claiming: Task<Void, Never>?
    private var listening: Task<Void, Never>?
    private var listener: PostgresConnection?
    /// Successes not recorded yet, and the task recording them: while one statement runs, the
    /// next successes gather, so under load one statement records many.
    private var unrecordedSuccesses: [String] = []
    private var recordingSuccesses: Task<Void, Never>?

    private struct RunningJob {
        let name: String
        let attempt: Task<Void, any Error>
    }

    init(queue: DurableQueue, loop: EventLoop, pool: PostgresPool, logger: Logger) {
        self.queue = queue
        self.loop = loop
        self.pool = pool
        self.logger = logger
    }

    func start() {
        claiming = onLoop { await $0.claimUntilStopped() }
        listening = onLoop { await $0.listenUntilStopped() }
    }

    /// A task of this actor that also prefers the loop for the nonisolated code it awaits (the
    /// store's statements): without the preference, each of those would hop to the global pool
    /// and back, two thread switches per statement.
    @discardableResult
    private func onLoop(_ body: @escaping @Sendable (isolated DurableWorker) async -> Void) -> Task<Void, Never> {
        Task(executorPreference: loop.taskExecutor) { await body(self) }
    }

    /// Stops claiming; waits for running jobs until `deadline`, then cancels the rest and gives
    /// them back to the queue (runnable at once, the attempt not counted).
    func stop(deadline: ContinuousClock.Instant) async {
        stopping = true
        wake()
        await listener?.close()
        await claiming?.value
        await listening?.value
        if !running.isEmpty {
            let timer = try? loop.scheduleTimer(after: max(.zero, deadline - .now)) { [weak self] in
                self?.assumeIsolated { $0.resumeIdleWaiters() }
            }
            await withCheckedContinuation { idleWaiters.append($0) }
            timer?.cancel()
        }
        let abandoned = running
        running = [:]
        for (id, job) in abandoned {
            job.attempt.cancel()
            logger.warning(
                "durable job still running at the shutdown deadline; returned to the queue",
                metadata: [
                    "job-id": "\(id)", "job": "\(job.name)",
                ])
            await record([id], name: job.name, .returned)
        }
        await recordingSuccesses?.value
    }

    // MARK: Claiming

    private func claimUntilStopped() async {
        var failures = 0
        while !stopping {
            do {
                if try await claimAvailable() { wakeRequested = true }
                failures = 0
            } catch {
                failures += 1
                if failures == 1 || failures.isMultiple(of: 30) {
                    logger.warning(
                        "durable tasks: claiming jobs failed; retrying",
                        metadata: ["error": "\(error)", "failures": "\(failures)"])
                }
            }
            await sleepUntilWoken(
                atMost: failures == 0
                    ? queue.configuration.pollInterval
                    : Backoff(base: queue.configuration.pollInterval, cap: .seconds(30)).delay(after: failures))
        }
    }

    /// Claims as many jobs as there are free slots, per job type; `true` when some type filled
    /// all its free slots (more may be waiting).
    private func claimAvailable() async throws -> Bool {
        var mayHaveMore = false
        for name in queue.registry.names {
            guard !stopping, let entry = queue.registry.entries[name] else { continue }
            let free = min(
                queue.configuration.concurrency - running.count,
                (entry.options.concurrency ?? .max) - runningByName[name, default: 0])
            guard free > 0 else { continue }
            let claimed = try await queue.store.claim(
                name: name, limit: free, instance: queue.instanceID,
                lease: queue.configuration.leaseDuration, on: pool)
            if claimed.count == free { mayHaveMore = true }
            for job in claimed { await launch(job, entry) }
        }
        return mayHaveMore
    }

    private func launch(_ job: DurableStore.ClaimedJob, _ entry: JobRegistry.Entry) async {
        var jobLogger = logger
        jobLogger[metadataKey: "job-id"] = "\(job.id)"
        jobLogger[metadataKey: "job"] = "\(job.name)"
        jobLogger[metadataKey: "attempt"] = "\(job.attempt)"
        if let requestID = job.requestID { jobLogger[metadataKey: "request-id"] = "\(requestID)" }
        guard job.attempt <= job.maxAttempts else {
            // Claimed again after its instance died during the last attempt.
            jobLogger.error("durable job is dead: its last attempt never finished")
            queue.metrics.count(.dead, job: job.name)
            await record(
                [job.id], name: job.name,
                .dead(error: "attempt \(job.maxAttempts) of \(job.maxAttempts) never finished (its instance stopped)"))
            return
        }
        queue.metrics.count(.started, job: job.name)
        queue.metrics.recordQueueLatency(seconds: job.waited, job: job.name)
        let context = JobContext(
            jobID: job.id, name: job.name, attempt: job.attempt, maxAttempts: job.maxAttempts,
            requestID: job.requestID, logger: jobLogger)
        let run = entry.run
        let parameters = job.parameters
        let attempt = Task(executorPreference: loop.taskExecutor) { try await run(parameters, context) }
        running[job.id] = RunningJob(name: job.name, attempt: attempt)
        runningByName[job.name, default: 0] += 1
        jobLogger.debug("durable job started")
        onLoop { [jobLogger] in await $0.finish(job, entry, attempt, logger: jobLogger) }
    }

    private func finish(
        _ job: DurableStore.ClaimedJob, _ entry: JobRegistry.Entry, _ attempt: Task<Void, any Error>,
        logger jobLogger: Logger
    ) async {
        let result = await outcome(of: attempt, within: entry.options.timeout)
        // Returned to the queue by the shutdown meanwhile: that outcome stands.
        guard running.removeValue(forKey: job.id) != nil else { return }
        runningByName[job.name, default: 1] -= 1
        switch result {
        case .success:
            jobLogger.debug("durable job succeeded")
            queue.metrics.count(.succeeded, job: job.name)
            recordSuccess(job.id)
        case .failure(let error):
            let reason =
                error is JobRegistry.UndecodableParameters || error is TimedOut ? "\(error)" : String(reflecting: error)
            queue.metrics.count(.failed, job: job.name)
            let outcome: DurableStore.Outcome
            if error is JobRegistry.UndecodableParameters || job.attempt >= job.maxAttempts {
                jobLogger.error("durable job is dead", metadata: ["error": "\(reason)"])
                queue.metrics.count(.dead, job: job.name)
                outcome = .dead(error: reason)
            } else {
                let delay = Backoff(base: entry.options.retryDelay, cap: entry.options.maximumRetryDelay).delay(
                    after: job.attempt)
                jobLogger.warning(
                    "durable job failed; retrying", metadata: ["error": "\(reason)", "retry-in": "\(delay)"])
                queue.metrics.count(.retried, job: job.name)
                outcome = .retry(after: delay, error: reason)
            }
            await record([job.id], name: job.name, outcome)
        }
        if running.isEmpty { resumeIdleWaiters() }
        wake()
    }

    /// Successes are recorded by one task at a time, in batches (see `unrecordedSuccesses`).
    private func recordSuccess(_ id: String) {
        unrecordedSuccesses.append(id)
        guard recordingSuccesses == nil else { return }
        recordingSuccesses = onLoop { worker in
            while !worker.unrecordedSuccesses.isEmpty {
                let ids = worker.unrecordedSuccesses
                worker.unrecordedSuccesses = []
                await worker.record(ids, name: nil, .succeeded)
            }
            worker.recordingSuccesses = nil
        }
    }

    private struct TimedOut: Error, CustomStringConvertible {
        let limit: Duration
        var description: String { "the attempt took longer than its timeout of \(limit)" }
    }

    /// The attempt's result, or ``TimedOut`` once `limit` passed (the attempt is then cancelled
    /// and no longer waited for).
    private func outcome(of attempt: Task<Void, any Error>, within limit: Duration) async -> Result<Void, any Error> {
        // Whichever of the attempt and the timer ends first settles; each may come before the
        // waiter is stored, so an early result waits in the box.
        let box = Locked<
            (waiter: CheckedContinuation<Result<Void, any Error>, Never>?, result: Result<Void, any Error>?, done: Bool)
        >((nil, nil, false))
        let settle: @Sendable (Result<Void, any Error>) -> Void = { result in
            let waiter = box.withLock { state -> CheckedContinuation<Result<Void, any Error>, Never>? in
                guard !state.done else { return nil }
                state.done = true
                guard let waiter = state.waiter else {
                    state.result = result
                    return nil
                }
                return waiter
            }
            waiter?.resume(returning: result)
        }
        let timer = try? loop.scheduleTimer(after: limit) {
            attempt.cancel()
            settle(.failure(TimedOut(limit: limit)))
        }
        Task(executorPreference: loop.taskExecutor) { settle(await attempt.result) }
        let result = await withCheckedContinuation { continuation in
            let early = box.withLock { state -> Result<Void, any Error>? in
                if state.result == nil { state.waiter = continuation }
                return state.result
            }
            if let early { continuation.resume(returning: early) }
        }
        timer?.cancel()
        return result
    }

    /// Records an outcome, retrying while the database is away; if it never comes back within the
    /// lease, the jobs' lease expires and another instance runs them again (at least once).
    private func record(_ ids: [String], name: String?, _ outcome: DurableStore.Outcome) async {
        let backoff = Backoff(base: .milliseconds(100), cap: .seconds(2))
        var failures = 0
        let giveUp = ContinuousClock.now + queue.configuration.leaseDuration
        while true {
            do {
                try await queue.store.finish(ids, outcome, instance: queue.instanceID, on: pool)
                return
            } catch {
                failures += 1
                let delay = backoff.delay(after: failures)
                guard ContinuousClock.now + delay < giveUp else {
                    logger.error(
                        "durable job outcome could not be recorded; it runs again once its lease expires",
                        metadata: [
                            "job-id": "\(ids.joined(separator: ","))", "job": "\(name ?? "-")", "error": "\(error)",
                        ])
                    return
                }
                try? await Task.sleep(for: delay)
            }
        }
    }

    // MARK: Waking

    /// `LISTEN`s for runnable jobs on a connection of its own, reconnecting with backoff.
    private func listenUntilStopped() async {
        let backoff = Backoff(base: .milliseconds(200), cap: .seconds(30))
        var failures = 0
        while !stopping {
            do {
                let connection = try await PostgresConnection.connect(queue.postgres, on: loop)
                // A stop that came while connecting found no listener to close: close it here.
                guard !stopping else {
                    await connection.close()
                    return
                }
                listener = connection
                let notifications = await connection.notifications()
                try await connection.listen(queue.store.schema.channel)
                failures = 0
                // Jobs may have become runnable while nobody listened.
                wake()
                for await _ in notifications { wake() }
            } catch {
                if !stopping {
                    logger.debug(
                        "durable tasks: listening for jobs failed; polling meanwhile", metadata: ["error": "\(error)"])
                }
            }
            listener = nil
            guard !stopping else { return }
            failures += 1
            await sleepUntilStopped(atMost: backoff.delay(after: failures))
        }
    }

    private func wake() {
        if let waiter = wakeWaiter {
            wakeWaiter = nil
            waiter.resume()
        } else {
            wakeRequested = true
        }
    }

    private func sleepUntilWoken(atMost limit: Duration) async {
        if wakeRequested || stopping {
            wakeRequested = false
            return
        }
        // The timer fires on this loop, so not before this job suspends with its waiter stored.
        let timer = try? loop.scheduleTimer(after: limit) { [weak self] in
            self?.assumeIsolated { $0.wake() }
        }
        await withCheckedContinuation { wakeWaiter = $0 }
        timer?.cancel()
        wakeRequested = false
    }

    private func sleepUntilStopped(atMost limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while !stopping, ContinuousClock.now < deadline {
            try? await Task.sleep(for: min(.milliseconds(100), deadline - .now))
        }
    }

    private func resumeIdleWaiters() {
        let waiters = idleWaiters
        idleWaiters = []
        for waiter in waiters { waiter.resume() }
    }
}
