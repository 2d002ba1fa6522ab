import Logging
import LoopworkUV

/// The function a task runs, with its arguments bound and its result type erased: the record and
/// the supervisor are not generic, so running a task never instantiates generic metadata.
enum TaskBody: Sendable {
    /// Runs on the request loop's executor.
    case async(@Sendable () async throws -> any Sendable)
    /// Runs on the blocking thread pool.
    case blocking(@Sendable () throws -> any Sendable)
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
    var logger: Logger { baseLogger.withRequestID(requestID) }

    /// ``logger`` with the task's name as `task` metadata as well.
    func logger(task name: String) -> Logger {
        var logger = logger
        logger[metadataKey: "task"] = "\(name)"
        return logger
    }
}

/// One background task: its configuration and its whole life as one state machine under one
/// lock (phase, start signal, outcome and their waiters). ``ScheduledTask`` is the typed handle
/// users hold; the scope and the supervisor work with records.
final class TaskRecord: ScheduledTaskProtocol {
    var name: String { config.name ?? origin.description }
    private let origin: TaskOrigin
    let config: TaskConfig
    let timing: TaskTiming
    private let body: TaskBody
    let environment: TaskEnvironment
    let storage: Locked<TaskState>

    init(origin: TaskOrigin, config: TaskConfig, timing: TaskTiming, body: TaskBody, environment: TaskEnvironment) {
        self.origin = origin
        self.config = config
        self.timing = timing
        self.body = body
        self.environment = environment
        storage = Locked(TaskState(scheduledAt: .now))
    }

    var supervisor: TaskSupervisor { environment.supervisor }
    var requestID: String { environment.requestID }
    var route: String? { environment.route }
    var state: ScheduledTaskState { storage.withLock { $0.publicState } }
    var started: TaskStartSignal { TaskStartSignal(storage) }

    /// The task's outcome once it has ended, its error handler included.
    var outcome: Result<any Sendable, any Error> {
        get async {
            await storage.wait(on: \.resultWaiters) { $0.outcome }
        }
    }

    func cancel() {
        enum Action {
            case endNow
            case cancelRunner(Task<Void, Never>)
            case withdraw(BlockingWorkTicket)
            case nothing
        }
        let action: Action = storage.withLock { state in
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

    /// Whether the task's moment has come (it was handed to the supervisor to run).
    var isDue: Bool { storage.withLock { $0.dueAt != nil } }

    /// Records that the task's moment came; `false` when it already ended (cancelled).
    func markDue() -> Bool {
        storage.withLock { state in
            guard state.phase == .waiting else { return false }
            state.dueAt = .now
            return true
        }
    }

    /// Hands the task to the executor or the pool; `false` when it already ended. With `due`,
    /// records its moment in the same step.
    func launch(markingDue due: Bool = false) -> Bool {
        let launched = storage.withLock { state in
            guard state.phase == .waiting, !state.cancelRequested else { return false }
            if due { state.dueAt = .now }
            state.phase = .launched
            return true
        }
        guard launched else { return false }
        switch body {
        case .async:
            // The closure captures the record alone, so it needs no context of its own.
            let runner = Task(executorPreference: environment.host.executor) { [self] in
                await runAsync()
            }
            let cancelNow = storage.withLock { state in
                guard state.phase != .finished else { return false }
                state.runner = runner
                return state.cancelRequested
            }
            if cancelNow { runner.cancel() }
        case .blocking(let operation):
            let ticket = environment.host.runBlocking(
                { self.runBlocking(operation) },
                completion: { _ in self.blockingEnded() })
            let withdrawNow = storage.withLock { state in
                guard state.phase == .launched else { return false }
                state.ticket = ticket
                return state.cancelRequested
            }
            if withdrawNow { ticket.withdraw() }
        }
        return true
    }

    /// Ends a task that will never run because its handler threw.
    func discard() {
        finish(.failure(TaskDiscardedError(taskName: name, timing: timing)), as: .discarded)
    }

    /// Cancels the task at shutdown unless it is shielded and due.
    func cancelForShutdown() {
        // A task whose moment never came will not get one now; a shielded task already due keeps
        // its place and is awaited.
        if !config.isShielded || !isDue { cancel() }
    }

    private func beginRunning() -> Bool {
        let begun: (waited: Duration, waiters: OneShotWaiters<Bool>)? = storage.withLock { state in
            guard state.phase == .launched, !state.cancelRequested else { return nil }
            let now = ContinuousClock.now
            state.phase = .running
            state.publicState = .running
            state.startedAt = now
            return (now - (state.dueAt ?? state.scheduledAt), state.startWaiters.takeAll())
        }
        guard let begun else { return false }
        environment.supervisor.taskStarted(self, queueWait: begun.waited)
        begun.waiters.resume(returning: true)
        return true
    }

    private func runAsync() async {
        guard case .async(let operation) = body, beginRunning() else {
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
    private func runBlocking(_ operation: @Sendable () throws -> any Sendable) {
        guard beginRunning() else { return }
        let outcome = Result { try operation() }
        storage.withLock { $0.blockingOutcome = outcome }
    }

    /// Runs on the loop once the pool is done with the work, or withdrew it.
    private func blockingEnded() {
        switch storage.withLock({ $0.blockingOutcome }) {
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
        logger.error(
            "background task failed",
            metadata: [
                "timing": "\(timing)",
                "route": "\(route ?? "-")",
                "error": "\(String(reflecting: error))",
            ])
        if let handler = config.onError {
            do {
                try await handler.handle(self, error)
            } catch let handlerError {
                logger.error(
                    "background task error handler failed",
                    metadata: [
                        "timing": "\(timing)",
                        "route": "\(route ?? "-")",
                        "error": "\(String(reflecting: handlerError))",
                    ])
            }
        }
        finish(.failure(error), as: .failed)
    }

    private func finish(_ outcome: Result<any Sendable, any Error>, as final: ScheduledTaskState) {
        struct Ended {
            var results: OneShotWaiters<Result<any Sendable, any Error>>
            var starts: OneShotWaiters<Bool>
            var heldSlot: Bool
            var ran: Duration?
        }
        let ended: Ended? = storage.withLock { state in
            guard state.phase != .finished else { return nil }
            let heldSlot = state.phase != .waiting
            state.phase = .finished
            state.publicState = final
            state.outcome = outcome
            state.runner = nil
            state.ticket = nil
            return Ended(
                results: state.resultWaiters.takeAll(), starts: state.startWaiters.takeAll(),
                heldSlot: heldSlot, ran: state.startedAt.map { ContinuousClock.now - $0 })
        }
        guard let ended else { return }
        // Waiters on the start of a task that ended without starting learn it never will.
        ended.starts.resume(returning: false)
        environment.supervisor.taskEnded(self, as: final, heldSlot: ended.heldSlot, ranFor: ended.ran)
        ended.results.resume(returning: outcome)
    }
}

/// A task's state; ``TaskRecord`` holds it under its lock.
struct TaskState {
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

    var phase = Phase.waiting
    var publicState = ScheduledTaskState.pending
    var cancelRequested = false
    var runner: Task<Void, Never>?
    var ticket: BlockingWorkTicket?
    var blockingOutcome: Result<any Sendable, any Error>?
    var outcome: Result<any Sendable, any Error>?
    var startWaiters = OneShotWaiters<Bool>()
    var resultWaiters = OneShotWaiters<Result<any Sendable, any Error>>()
    let scheduledAt: ContinuousClock.Instant
    var dueAt: ContinuousClock.Instant?
    var startedAt: ContinuousClock.Instant?

    /// `true` once started; `false` once ended without starting; `nil` before either.
    var startResolution: Bool? {
        if startedAt != nil { return true }
        return phase == .finished ? false : nil
    }
}
