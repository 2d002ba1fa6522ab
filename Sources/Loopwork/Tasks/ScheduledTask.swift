import Logging
import LoopworkUV

/// What every scheduled task offers, whatever its result type; error handlers receive this.
public protocol ScheduledTaskProtocol: AnyObject, Sendable {
    /// The configured name, or where the task was scheduled (`File.swift:12`) when it has none.
    var name: String { get }
    /// The task's effective configuration: its own values over the app defaults.
    var config: TaskConfig { get }
    /// When the task starts relative to its request.
    var timing: TaskTiming { get }
    /// Where the task is in its life.
    var state: ScheduledTaskState { get }
    /// The id of the request that scheduled the task.
    var requestID: String { get }
    /// The route pattern of the request that scheduled the task.
    var route: String? { get }
    /// Set when the task's function begins.
    var started: TaskStartSignal { get }
    /// Cancels the task: a task that has not started never will; a running async task is
    /// cancelled cooperatively; a running sync function cannot be interrupted and runs to its end.
    func cancel()
}

/// The function a task runs, with its arguments already bound.
enum TaskBody<Success: Sendable>: Sendable {
    /// Runs on the request loop's executor.
    case async(@Sendable () async throws -> Success)
    /// Runs on the blocking thread pool.
    case blocking(@Sendable () throws -> Success)
}

/// Where a task was scheduled, named only when a name is needed: formatting it for every
/// task would allocate a string most tasks never show.
struct TaskOrigin: Sendable {
    let fileID: String
    let line: Int

    var description: String { "\(fileID):\(line)" }
}

/// What a task needs from its request and app.
struct TaskEnvironment: Sendable {
    let supervisor: TaskSupervisor
    let host: any TaskExecutionHost
    /// The app's logger without metadata; ``logger`` adds it when a line is actually written.
    let baseLogger: Logger
    let requestID: String
    let route: String?

    /// The logger with `request-id` metadata. Built on use: adding metadata allocates, and most
    /// requests' tasks never log.
    var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "request-id"] = "\(requestID)"
        return logger
    }

    /// ``logger`` with the task's name as `task` metadata as well.
    func logger(task name: String) -> Logger {
        var logger = logger
        logger[metadataKey: "task"] = "\(name)"
        return logger
    }
}

/// A handle on one background task: its configuration, state, start signal and result.
///
/// Returned by every `schedule` call. Keep it to await the result or cancel the task, or drop it:
/// the task runs either way.
///
/// ```swift
/// let total = tasks.schedule(computeTotal, order.id)
/// // later, anywhere:
/// let value = try await total.value
/// ```
public final class ScheduledTask<Success: Sendable>: ScheduledTaskProtocol {
    public var name: String { config.name ?? origin.description }
    private let origin: TaskOrigin
    public let config: TaskConfig
    public let timing: TaskTiming
    public let started = TaskStartSignal()
    private let body: TaskBody<Success>
    private let environment: TaskEnvironment
    private let storage: Locked<State>

    enum Phase {
        /// Waiting for its batch's moment, or for a free slot.
        case waiting
        /// Handed to the executor or the pool; its function has not begun.
        case launched
        case running
        /// Its function threw; the error handler is running.
        case handlingError
        case finished
    }

    private enum CancelAction {
        case endNow, cancelRunner(Task<Void, Never>), withdraw(BlockingWorkTicket), nothing
    }

    private struct State {
        var phase = Phase.waiting
        var publicState = ScheduledTaskState.pending
        var cancelRequested = false
        var runner: Task<Void, Never>?
        var ticket: BlockingWorkTicket?
        var blockingOutcome: Result<Success, any Error>?
        var outcome: Result<Success, any Error>?
        var waiters: [CheckedContinuation<Result<Success, any Error>, Never>] = []
        let scheduledAt: ContinuousClock.Instant
        var dueAt: ContinuousClock.Instant?
        var startedAt: ContinuousClock.Instant?
    }

    init(origin: TaskOrigin, config: TaskConfig, timing: TaskTiming, body: TaskBody<Success>, environment: TaskEnvironment) {
        self.origin = origin
        self.config = config
        self.timing = timing
        self.body = body
        self.environment = environment
        storage = Locked(State(scheduledAt: .now))
    }

    public var requestID: String { environment.requestID }
    public var route: String? { environment.route }
    public var state: ScheduledTaskState { storage.withLock { $0.publicState } }

    /// The task's result, once it has ended: its value, its error, a `CancellationError`, or a
    /// ``TaskDiscardedError``. Resolves after a failed task's error handler has returned.
    public var result: Result<Success, any Error> {
        get async {
            await withCheckedContinuation { continuation in
                let outcome: Result<Success, any Error>? = storage.withLock { state in
                    if let outcome = state.outcome { return outcome }
                    state.waiters.append(continuation)
                    return nil
                }
                if let outcome { continuation.resume(returning: outcome) }
            }
        }
    }

    /// The task's return value; throws what the task threw, a `CancellationError` when it was
    /// cancelled, or a ``TaskDiscardedError`` when it was discarded.
    public var value: Success {
        get async throws { try await result.get() }
    }

    public func cancel() {
        let action: CancelAction = storage.withLock { state in
            switch state.phase {
            case .waiting:
                state.cancelRequested = true
                return .endNow
            case .launched, .running:
                state.cancelRequested = true
                if let runner = state.runner { return .cancelRunner(runner) }
                if state.phase == .launched, let ticket = state.ticket { return .withdraw(ticket) }
                return .nothing
            case .handlingError, .finished:
                return .nothing
            }
        }
        switch action {
        case .endNow: finish(.failure(CancellationError()), as: .cancelled)
        case .cancelRunner(let runner): runner.cancel()
        case .withdraw(let ticket): ticket.withdraw()
        case .nothing: break
        }
    }
}

extension ScheduledTask: SupervisedTask {
    var isDue: Bool { storage.withLock { $0.dueAt != nil } }

    func markDue() -> Bool {
        storage.withLock { state in
            guard state.phase == .waiting else { return false }
            state.dueAt = .now
            return true
        }
    }

    func launch() -> Bool {
        let launched = storage.withLock { state in
            guard state.phase == .waiting, !state.cancelRequested else { return false }
            state.phase = .launched
            return true
        }
        guard launched else { return false }
        switch body {
        case .async(let operation):
            let runner = Task(executorPreference: environment.host.executor) {
                await self.runAsync(operation)
            }
            let cancelNow = storage.withLock { state in
                guard state.phase != .finished else { return false }
                state.runner = runner
                return state.cancelRequested
            }
            if cancelNow { runner.cancel() }
        case .blocking(let operation):
            let ticket = environment.host.runBlocking({ self.runBlocking(operation) },
                                                      completion: { ran in self.blockingEnded(ran: ran) })
            let withdrawNow = storage.withLock { state in
                guard state.phase == .launched else { return false }
                state.ticket = ticket
                return state.cancelRequested
            }
            if withdrawNow { ticket.withdraw() }
        }
        return true
    }

    func discard() {
        finish(.failure(TaskDiscardedError(taskName: name, timing: timing)), as: .discarded)
    }

    func cancelForShutdown() {
        // A task whose moment never came will not get one now; a shielded task already due keeps
        // its place and is awaited.
        if !config.isShielded || !isDue { cancel() }
    }

    private func beginRunning() -> Bool {
        let waited: Duration? = storage.withLock { state in
            guard state.phase == .launched, !state.cancelRequested else { return nil }
            let now = ContinuousClock.now
            state.phase = .running
            state.publicState = .running
            state.startedAt = now
            return now - (state.dueAt ?? state.scheduledAt)
        }
        guard let waited else { return false }
        environment.supervisor.taskStarted(self, queueWait: waited)
        started.set()
        return true
    }

    private func runAsync(_ operation: @Sendable () async throws -> Success) async {
        guard beginRunning() else {
            finish(.failure(CancellationError()), as: .cancelled)
            return
        }
        do {
            finish(.success(try await operation()), as: .succeeded)
        } catch {
            await ended(throwing: error)
        }
    }

    /// Runs on a pool thread.
    private func runBlocking(_ operation: @Sendable () throws -> Success) {
        guard beginRunning() else { return }
        let outcome = Result { try operation() }
        storage.withLock { $0.blockingOutcome = outcome }
    }

    /// Runs on the loop once the pool is done with the work, or withdrew it.
    private func blockingEnded(ran: Bool) {
        let outcome = storage.withLock { $0.blockingOutcome }
        switch outcome {
        case nil:
            finish(.failure(CancellationError()), as: .cancelled)
        case .success(let value)?:
            finish(.success(value), as: .succeeded)
        case .failure(let error)?:
            Task(executorPreference: environment.host.executor) {
                await self.ended(throwing: error)
            }
        }
    }

    private func ended(throwing error: any Error) async {
        let wasCancelled = storage.withLock { state in
            let cancelled = error is CancellationError && state.cancelRequested
            if !cancelled {
                state.phase = .handlingError
                state.publicState = .failed
            }
            return cancelled
        }
        if wasCancelled {
            finish(.failure(error), as: .cancelled)
            return
        }
        // Never the arguments: they may hold personal data.
        let logger = environment.logger(task: name)
        logger.error("background task failed", metadata: [
            "timing": "\(timing)",
            "route": "\(route ?? "-")",
            "error": "\(String(reflecting: error))",
        ])
        if let handler = config.onError {
            do {
                try await handler.handle(self, error)
            } catch let handlerError {
                logger.error("background task error handler failed", metadata: [
                    "timing": "\(timing)",
                    "route": "\(route ?? "-")",
                    "error": "\(String(reflecting: handlerError))",
                ])
            }
        }
        finish(.failure(error), as: .failed)
    }

    private func finish(_ outcome: Result<Success, any Error>, as final: ScheduledTaskState) {
        let ended: (waiters: [CheckedContinuation<Result<Success, any Error>, Never>], ran: Duration?)? = storage.withLock { state in
            guard state.phase != .finished else { return nil }
            state.phase = .finished
            state.publicState = final
            state.outcome = outcome
            state.runner = nil
            state.ticket = nil
            defer { state.waiters = [] }
            return (state.waiters, state.startedAt.map { ContinuousClock.now - $0 })
        }
        guard let ended else { return }
        started.endWithoutStart()
        environment.supervisor.taskEnded(self, as: final, ranFor: ended.ran)
        for waiter in ended.waiters { waiter.resume(returning: outcome) }
    }
}
