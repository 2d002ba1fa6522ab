import LoopworkUV

/// What every scheduled task offers, whatever its result type; error handlers receive this.
public protocol ScheduledTaskProtocol: Sendable {
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

/// A handle on one background task: its configuration, state, start signal and result.
///
/// Returned by every `schedule` call. Keep it to await the result or cancel the task, or drop it:
/// the task runs either way. Copies are handles on the same task.
///
/// ```swift
/// let total = tasks.schedule(computeTotal, order.id)
/// // later, anywhere:
/// let value = try await total.value
/// ```
public struct ScheduledTask<Success: Sendable>: ScheduledTaskProtocol {
    let record: TaskRecord

    init(_ record: TaskRecord) {
        self.record = record
    }

    public var name: String { record.name }
    public var config: TaskConfig { record.config }
    public var timing: TaskTiming { record.timing }
    public var state: ScheduledTaskState { record.state }
    public var requestID: String { record.requestID }
    public var route: String? { record.route }
    public var started: TaskStartSignal { record.started }
    public func cancel() { record.cancel() }

    /// The task's result, once it has ended: its value, its error, a `CancellationError`, or a
    /// ``TaskDiscardedError``. Resolves after a failed task's error handler has returned.
    public var result: Result<Success, any Error> {
        get async {
            await record.outcome.map { value in
                // Never reachable from input: the record's only success value is what this task's
                // own function returned (typed `Success` by `schedule`), erased to `any Sendable`.
                guard let typed = value as? Success else {
                    preconditionFailure("task \(record.name) returned \(type(of: value)), not \(Success.self)")
                }
                return typed
            }
        }
    }

    /// The task's return value; throws what the task threw, a `CancellationError` when it was
    /// cancelled, or a ``TaskDiscardedError`` when it was discarded.
    public var value: Success {
        get async throws { try await result.get() }
    }
}

/// The awaitable "started" signal of a scheduled task, like the original's `started` event.
///
/// It is set when the task's function begins, also when it then fails. A task that ends without
/// starting (discarded, cancelled before it ran) never sets it, but releases every waiter then,
/// so `wait()` never hangs on a task that will not run.
public struct TaskStartSignal: Sendable {
    private let state: Locked<TaskState>

    init(_ state: Locked<TaskState>) {
        self.state = state
    }

    /// Whether the task has started.
    public var isSet: Bool { state.withLock { $0.startedAt != nil } }

    /// Waits until the task starts or ends without starting.
    ///
    /// - Returns: `true` when the task started, `false` when it ended without starting.
    @discardableResult
    public func wait() async -> Bool {
        await state.wait(on: \.startWaiters) { $0.startResolution }
    }
}
