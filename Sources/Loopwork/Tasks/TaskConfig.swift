/// When a scheduled task starts, relative to the request that scheduled it.
public enum TaskTiming: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// At once, concurrently with the handler.
    case immediate
    /// When the handler has returned, before the response is written.
    case afterRoute = "after-route"
    /// When the response's last byte has been handed to the kernel (or the client is gone).
    case afterResponse = "after-response"

    public var description: String { rawValue }
}

/// Where a scheduled task is in its life. The last four states are final.
public enum ScheduledTaskState: String, Sendable, Hashable, CustomStringConvertible {
    /// Scheduled, not started: waiting for its moment, for a free slot or for a pool thread.
    case pending
    /// Its function is running.
    case running
    /// Its function returned.
    case succeeded
    /// Its function threw; the error was logged and handed to the error handler.
    case failed
    /// Cancelled by ``ScheduledTask/cancel()`` or at shutdown, before or while it ran.
    case cancelled
    /// Never ran because its request's handler threw (after-route and after-response tasks only).
    case discarded

    /// Whether the task has reached a final state.
    public var isFinished: Bool {
        switch self {
        case .pending, .running: false
        case .succeeded, .failed, .cancelled, .discarded: true
        }
    }

    public var description: String { rawValue }
}

/// The error a discarded task's ``ScheduledTask/value`` throws: its request's handler threw
/// before the task's moment came, so it never ran.
public struct TaskDiscardedError: Error, CustomStringConvertible, Sendable {
    /// The task's name (its configured name or where it was scheduled).
    public let taskName: String
    /// The task's timing.
    public let timing: TaskTiming

    public var description: String {
        "background task '\(taskName)' (\(timing)) was discarded because its request's handler threw"
    }
}

/// Receives a task that threw and its error, after the error has been logged.
///
/// Wraps a sync or an async closure. An error the handler throws is logged and affects nothing
/// else: other tasks and later requests are not touched.
///
/// ```swift
/// let report = TaskErrorHandler { task, error in
///     await alerts.send("\(task.name) failed: \(error)")
/// }
/// ```
public struct TaskErrorHandler: Sendable {
    let handle: @Sendable (any ScheduledTaskProtocol, any Error) async throws -> Void

    /// Creates a handler from an async closure.
    public init(
        _ handler: @escaping @Sendable (_ task: any ScheduledTaskProtocol, _ error: any Error) async throws -> Void
    ) {
        handle = handler
    }

    /// Creates a handler from a sync closure; it runs on the request's loop, so keep it short.
    public init(_ handler: @escaping @Sendable (_ task: any ScheduledTaskProtocol, _ error: any Error) throws -> Void) {
        handle = { task, error in try handler(task, error) }
    }
}

/// How a task is run: its name in logs, whether shutdown may cancel it, who handles its errors,
/// and whether it runs even when its handler threw.
///
/// Every field is optional: `nil` means "not set here". A per-task value from
/// `task(name:shield:onError:always:)` overrides the app default from `addTasks(config:)` only
/// where it is set, so an explicit `false` overrides a default `true` but `nil` does not.
public struct TaskConfig: Sendable {
    /// The name used in logs and metrics metadata; unset, a task is named by where it was scheduled.
    public var name: String?
    /// Whether shutdown waits for the task (up to the deadline) instead of cancelling it.
    public var shield: Bool?
    /// Called with the task and its error when the task throws.
    public var onError: TaskErrorHandler?
    /// Whether an after-route or after-response task runs even when its handler threw.
    public var always: Bool?

    /// Creates a configuration; leave a field `nil` to inherit it.
    public init(name: String? = nil, shield: Bool? = nil, onError: TaskErrorHandler? = nil, always: Bool? = nil) {
        self.name = name
        self.shield = shield
        self.onError = onError
        self.always = always
    }

    /// This configuration with every unset field taken from `defaults`.
    public func merged(over defaults: TaskConfig) -> TaskConfig {
        TaskConfig(
            name: name ?? defaults.name,
            shield: shield ?? defaults.shield,
            onError: onError ?? defaults.onError,
            always: always ?? defaults.always)
    }

    /// Whether the task is shielded from shutdown cancellation (unset means no).
    public var isShielded: Bool { shield ?? false }

    /// Whether the task runs even when its handler threw (unset means no).
    public var runsAlways: Bool { always ?? false }
}
