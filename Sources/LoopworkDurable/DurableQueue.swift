package import Logging
public import Loopwork
import LoopworkPostgres
package import LoopworkUV
import Metrics

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The durable queue of one app: its connections, its workers and the jobs its requests hold.
///
/// Installed by ``Loopwork/App/addDurableTasks(postgres:jobs:configuration:metricsFactory:)``; a
/// handler that declares a parameter of this type can look jobs up (``job(id:)``). Every instance
/// of the app has an id of its own, which marks the jobs it holds or runs.
public final class DurableQueue: AppService, RequestDependency {
    /// How this instance uses the queue.
    public let configuration: DurableTasksConfiguration
    /// The server holding the queue, as `addDurableTasks` was given it.
    let postgres: PostgresConfiguration
    /// This instance's id in the queue's rows (`locked_by`).
    public let instanceID: String
    let registry: JobRegistry
    let store: DurableStore
    let metrics: DurableMetrics
    private let state = Locked(State())

    private struct State {
        var pools: [PostgresPool] = []
        var worker: DurableWorker?
        var maintenance: Task<Void, Never>?
        /// Releases and discards of held jobs that failed (the database was away), retried by
        /// the maintenance round until they succeed.
        var unsettled: [(id: String, release: Bool)] = []
        var logger = Logger(label: "loopwork.durable")
    }

    init(
        postgres: PostgresConfiguration, configuration: DurableTasksConfiguration, registry: JobRegistry,
        metricsFactory: any MetricsFactory
    ) {
        self.postgres = postgres
        self.configuration = configuration
        self.registry = registry
        self.store = DurableStore(schema: DurableSchema(name: configuration.schema))
        self.metrics = DurableMetrics(factory: metricsFactory)
        self.instanceID =
            "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// The installed queue.
    public static func resolve(from request: Request) async throws -> DurableQueue {
        try installed(in: request.context.services, route: request.context.route ?? request.path)
    }

    public static func checkAvailability(in environment: DependencyEnvironment) throws {
        _ = try installed(in: environment.services, route: environment.route)
    }

    static func installed(in services: AppServices, route: String) throws -> DurableQueue {
        guard let queue = services.service(DurableQueue.self) else {
            throw AppConfigurationError(
                "route '\(route)' uses durable tasks, but the app has none: call app.addDurableTasks(postgres:jobs:) before starting it"
            )
        }
        return queue
    }

    /// The job with `id` as the database holds it now; `nil` for an unknown id.
    ///
    /// - Throws: ``LoopworkPostgres/PostgresError`` when the database cannot be reached.
    public func job(id: String) async throws -> DurableJobRecord? {
        try await store.job(id: id, on: try pool(for: nil))
    }

    /// Makes a `dead` job (or a `failed` one waiting for its retry) runnable now, with all its
    /// attempts again: for a job that failed for a reason since fixed. Its last error stays until
    /// the next attempt ends.
    ///
    /// - Returns: `false` when no dead or failed job has `id`.
    /// - Throws: ``DurableTasksError`` when an unfinished job of the same type already has this
    ///   job's idempotency key; ``LoopworkPostgres/PostgresError`` when the database cannot be
    ///   reached.
    @discardableResult
    public func requeue(id: String) async throws -> Bool {
        do {
            return try await store.requeue(id: id, on: try pool(for: nil))
        } catch let error as PostgresError where error.sqlState == "23505" {
            throw DurableTasksError("job \(id) cannot run again: an unfinished job of its type has its idempotency key")
        }
    }

    /// Schedules a job from outside a request (another job, a timer, a command-line tool): it is
    /// runnable as soon as its row is committed, before this returns. In a handler, use
    /// ``DurableTasks`` instead: it has the request's timings and ties the job to the request.
    ///
    /// - Parameters:
    ///   - job: The job's type, registered with `addDurableTasks(jobs:)`.
    ///   - parameters: The job's parameters, stored as JSON.
    ///   - idempotencyKey: See ``DurableTasks/schedule(_:idempotencyKey:)``.
    /// - Throws: ``DurableTasksError`` for a job type this app does not register, or when the
    ///   queue is not running; ``LoopworkPostgres/PostgresError`` when the row cannot be committed.
    @discardableResult
    public func schedule<Job: DurableJob>(
        _ job: Job.Type, _ parameters: Job.Parameters,
        idempotencyKey: String? = nil
    ) async throws -> DurableJobHandle {
        guard registry.entries[Job.name]?.type == ObjectIdentifier(Job.self) else {
            throw DurableTasksError(
                "durable job '\(Job.name)' (\(Job.self)) is not registered with addDurableTasks(jobs:)")
        }
        return try await insert(
            Job.self, parameters, held: false, idempotencyKey: idempotencyKey, requestID: nil, loop: nil)
    }

    /// Commits a job's row, runnable or held by this instance; counts it when it is new.
    func insert<Job: DurableJob>(
        _ job: Job.Type, _ parameters: Job.Parameters, held: Bool, idempotencyKey: String?,
        requestID: String?, loop: EventLoop?
    ) async throws -> DurableJobHandle {
        let handle = try await store.insert(
            name: Job.name, parameters: try JobRegistry.encode(parameters), held: held,
            maxAttempts: Job.options.maxAttempts,
            idempotencyKey: idempotencyKey, requestID: requestID, instance: instanceID,
            lease: configuration.leaseDuration, on: try pool(for: loop))
        if handle.created { metrics.count(.enqueued, job: Job.name) }
        return handle
    }

    // MARK: Life

    package func appWillStart(logger: Logger) throws {
        do {
            try configuration.validate()
        } catch {
            throw AppConfigurationError(error.message)
        }
    }

    package func appDidStartLoops(_ loops: [EventLoop], logger: Logger) async throws {
        let pools = loops.map { PostgresPool(postgres, size: configuration.connectionsPerLoop, on: $0) }
        do {
            try await pools[0].withConnection { try await store.schema.migrate(on: $0) }
        } catch {
            for pool in pools { await pool.close() }
            throw DurableTasksError(
                "durable tasks cannot start: PostgreSQL at \(postgres.redactedConnectionString): \(error)")
        }
        var queueLogger = logger
        queueLogger[metadataKey: "instance"] = "\(instanceID)"
        let worker =
            configuration.runsWorkers
            ? DurableWorker(queue: self, loop: loops[0], pool: pools[0], logger: queueLogger) : nil
        let maintenanceLogger = queueLogger
        let maintenance = Task(executorPreference: loops[0].taskExecutor) { [self] in
            await maintain(on: pools[0], logger: maintenanceLogger)
        }
        state.withLock { state in
            state.pools = pools
            state.worker = worker
            state.maintenance = maintenance
            state.logger = queueLogger
        }
        await worker?.start()
        logger.info(
            "durable tasks started",
            metadata: [
                "schema": "\(configuration.schema)", "jobs": "\(registry.names.joined(separator: ","))",
                "workers": "\(configuration.runsWorkers ? configuration.concurrency : 0)",
            ])
    }

    /// Stops claiming, lets running jobs finish within the deadline and returns the rest to the
    /// queue; releases whatever this instance still holds (a held job is never dropped by a
    /// shutdown), then closes the connections.
    package func drain(logger: Logger) async {
        let (worker, maintenance, pools) = state.withLock { state in
            defer {
                state.worker = nil
                state.maintenance = nil
                state.pools = []
            }
            return (state.worker, state.maintenance, state.pools)
        }
        guard let first = pools.first else { return }
        await worker?.stop(deadline: ContinuousClock.now + configuration.shutdownDeadline)
        maintenance?.cancel()
        await maintenance?.value
        await settleUnsettled(on: first, logger: logger)
        do {
            try await first.query(
                """
                UPDATE \(store.schema.qualified).jobs SET state = 'queued', locked_by = NULL, lease_expires_at = NULL, run_at = now()
                WHERE locked_by = $1 AND state = 'held'
                """, [instanceID])
        } catch {
            logger.warning(
                "durable tasks: could not release held jobs at shutdown; their lease expires and another instance runs them",
                metadata: [
                    "error": "\(error)"
                ])
        }
        for pool in pools { await pool.close() }
    }

    // MARK: Held jobs

    /// The pool of the loop serving a request (the first one for `nil` or an unknown loop).
    func pool(for loop: EventLoop?) throws -> PostgresPool {
        let pools = state.withLock { $0.pools }
        guard let first = pools.first else {
            throw DurableTasksError("durable tasks are not running: the app has not started, or is shutting down")
        }
        return pools.first { $0.loop === loop } ?? first
    }

    /// Releases (or discards) a request's held jobs at its milestone, in the background; a
    /// failure is retried by the maintenance round, so the decision is never forgotten.
    func settle(_ ids: [String], release: Bool, loop: EventLoop?) {
        let logger = state.withLock { $0.logger }
        guard !ids.isEmpty else { return }
        guard let pool = try? pool(for: loop) else {
            // Stopped: the rows stay held until their lease expires, then another instance runs them.
            logger.warning(
                "durable tasks stopped before held jobs were \(release ? "released" : "discarded"); they run once their lease expires",
                metadata: [
                    "jobs": "\(ids.joined(separator: ","))"
                ])
            return
        }
        Task(executorPreference: pool.loop.taskExecutor) { [self] in
            do {
                if release { try await store.release(ids, on: pool) } else { try await store.discard(ids, on: pool) }
            } catch {
                logger.warning(
                    "durable tasks: could not \(release ? "release" : "discard") held jobs; retrying",
                    metadata: [
                        "jobs": "\(ids.joined(separator: ","))", "error": "\(error)",
                    ])
                state.withLock { $0.unsettled.append(contentsOf: ids.map { ($0, release) }) }
            }
        }
    }

    private func settleUnsettled(on pool: PostgresPool, logger: Logger) async {
        let pending = state.withLock { state in
            defer { state.unsettled = [] }
            return state.unsettled
        }
        guard !pending.isEmpty else { return }
        let releases = pending.filter(\.release).map(\.id)
        let discards = pending.filter { !$0.release }.map(\.id)
        do {
            if !releases.isEmpty { try await store.release(releases, on: pool) }
            if !discards.isEmpty { try await store.discard(discards, on: pool) }
        } catch {
            state.withLock { $0.unsettled.append(contentsOf: pending) }
        }
    }

    // MARK: Maintenance

    /// Every third of the lease: renew this instance's leases and retry unsettled jobs. About
    /// once a minute: delete succeeded jobs past retention, and report runnable jobs whose name
    /// this instance does not know (they wait for an instance that registers them).
    private func maintain(on pool: PostgresPool, logger: Logger) async {
        let heartbeat = configuration.leaseDuration / 3
        var lastHousekeeping = ContinuousClock.now - .seconds(3600)
        while !Task.isCancelled {
            do {
                try await store.renewLeases(instance: instanceID, lease: configuration.leaseDuration, on: pool)
            } catch {
                logger.warning("durable tasks: lease renewal failed", metadata: ["error": "\(error)"])
            }
            await settleUnsettled(on: pool, logger: logger)
            if ContinuousClock.now - lastHousekeeping > .seconds(60) {
                lastHousekeeping = .now
                await housekeeping(on: pool, logger: logger)
            }
            try? await Task.sleep(for: heartbeat)
        }
    }

    private func housekeeping(on pool: PostgresPool, logger: Logger) async {
        do {
            let deleted = try await store.deleteFinished(olderThan: configuration.retention, on: pool)
            if deleted > 0 {
                logger.debug("durable tasks: deleted succeeded jobs past retention", metadata: ["count": "\(deleted)"])
            }
            guard configuration.runsWorkers else { return }
            for (name, count) in try await store.unknownWaitingJobs(known: registry.names, age: .seconds(60), on: pool)
            {
                logger.warning(
                    "durable jobs wait for a job type this instance does not register",
                    metadata: [
                        "job": "\(name)", "waiting": "\(count)",
                    ])
            }
        } catch {
            logger.warning("durable tasks: housekeeping failed", metadata: ["error": "\(error)"])
        }
    }
}
