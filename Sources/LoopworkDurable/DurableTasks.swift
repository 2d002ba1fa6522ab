public import Loopwork
import LoopworkUV
import Synchronization

/// What a handler declares to schedule durable jobs of type `Job`, with the timings of ``Tasks``.
///
/// ```swift
/// app.post("/signup") { (signup: JSONBody<Signup>, welcome: DurableTasks<SendWelcomeEmail>) in
///     let job = try await welcome.afterResponse.schedule(.init(email: signup.value.email))
///     return StatusResponse(.accepted, ["job": job.id])
/// }
/// ```
///
/// Every `schedule` returns once the job's row is committed, so a response sent afterwards
/// confirms a durable job. An immediate job is runnable at once; an after-route or after-response
/// job is committed *held* and becomes runnable at its moment (the handler returned; the
/// response's last byte was handed to the kernel, or the client is gone). When the handler
/// throws, held jobs are deleted, unless scheduled with `always`. If this instance dies before
/// the moment, a held job is not lost: once its lease expires, another instance runs it (even if
/// the response never reached the client, since that cannot be known any more).
///
/// Declaring this parameter is what lets the app check at start that `addDurableTasks` was
/// called and registers `Job`: a route that could not schedule its jobs does not start.
public struct DurableTasks<Job: DurableJob>: RequestDependency {
    let queue: DurableQueue
    let context: RequestContext

    /// Jobs that become runnable when the handler has returned.
    public var afterRoute: DurableTasksBatch<Job> {
        DurableTasksBatch(queue: queue, context: context, timing: .afterRoute)
    }
    /// Jobs that become runnable once the response has been written, or the client is gone.
    public var afterResponse: DurableTasksBatch<Job> {
        DurableTasksBatch(queue: queue, context: context, timing: .afterResponse)
    }

    /// Schedules a job that is runnable as soon as its row is committed, before this returns.
    ///
    /// - Parameters:
    ///   - parameters: The job's parameters, stored as JSON.
    ///   - idempotencyKey: With a key, scheduling again while a job of this type with the same
    ///     key is unfinished returns that job instead of adding one.
    /// - Throws: ``LoopworkPostgres/PostgresError`` when the row cannot be committed: the job
    ///   then does not exist, and the handler should not confirm it.
    @discardableResult
    public func schedule(_ parameters: Job.Parameters, idempotencyKey: String? = nil) async throws -> DurableJobHandle {
        try await DurableTasksBatch<Job>(queue: queue, context: context, timing: .immediate)
            .schedule(parameters, idempotencyKey: idempotencyKey)
    }

    public static func resolve(from request: Request) async throws -> DurableTasks<Job> {
        DurableTasks(queue: try await DurableQueue.resolve(from: request), context: request.context)
    }

    /// Refuses to start an app whose route schedules `Job` without `addDurableTasks`, or without
    /// registering `Job`.
    public static func checkAvailability(in environment: DependencyEnvironment) throws {
        let queue = try DurableQueue.installed(in: environment.services, route: environment.route)
        guard let entry = queue.registry.entries[Job.name] else {
            throw AppConfigurationError(
                "route '\(environment.route)' schedules durable job '\(Job.name)' (\(Job.self)), which addDurableTasks(jobs:) does not register"
            )
        }
        guard entry.type == ObjectIdentifier(Job.self) else {
            throw AppConfigurationError(
                "route '\(environment.route)' schedules \(Job.self) as durable job '\(Job.name)', but that name is registered for another type"
            )
        }
    }
}

/// The durable jobs of one timing, ``DurableTasks/afterRoute`` or ``DurableTasks/afterResponse``.
public struct DurableTasksBatch<Job: DurableJob>: Sendable {
    let queue: DurableQueue
    let context: RequestContext
    /// When this batch's jobs become runnable.
    public let timing: TaskTiming

    /// Commits a held job, made runnable at this batch's moment.
    ///
    /// - Parameters:
    ///   - parameters: The job's parameters, stored as JSON.
    ///   - idempotencyKey: See ``DurableTasks/schedule(_:idempotencyKey:)``; a job found by its
    ///     key is returned as it is, not held again.
    ///   - always: Whether the job runs even when the handler throws.
    /// - Throws: ``LoopworkPostgres/PostgresError`` when the row cannot be committed.
    @discardableResult
    public func schedule(_ parameters: Job.Parameters, idempotencyKey: String? = nil, always: Bool = false) async throws
        -> DurableJobHandle
    {
        let held = timing != .immediate
        let handle = try await queue.insert(
            Job.self, parameters, held: held, idempotencyKey: idempotencyKey,
            requestID: context.requestID, loop: context.loop)
        if held && handle.created {
            context.addObserver(
                HeldJob(id: handle.id, timing: timing, always: always, queue: queue, loop: context.loop))
        }
        return handle
    }
}

/// Releases or discards one held job at its request's milestone.
private final class HeldJob: RequestLifecycleObserver {
    let id: String
    let timing: TaskTiming
    let always: Bool
    let queue: DurableQueue
    let loop: EventLoop?
    /// Settled once: the first milestone that decides wins.
    private let settled = Atomic<Bool>(false)

    init(id: String, timing: TaskTiming, always: Bool, queue: DurableQueue, loop: EventLoop?) {
        self.id = id
        self.timing = timing
        self.always = always
        self.queue = queue
        self.loop = loop
    }

    func handlerFinished(succeeded: Bool) {
        if !succeeded && !always {
            settle(release: false)
        } else if timing == .afterRoute {
            settle(release: true)
        }
    }

    func responseFinished(delivered: Bool, bodyFailed: Bool) {
        // Also reached when the handler never reported (the request timed out): a held job is
        // released rather than lost.
        settle(release: true)
    }

    private func settle(release: Bool) {
        guard settled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        queue.settle([id], release: release, loop: loop)
    }
}
