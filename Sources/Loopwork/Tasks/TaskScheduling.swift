/// What schedules a request's background tasks: ``Tasks`` (immediate tasks) and ``TasksBatch``
/// (tasks of one timing and configuration). Both get `schedule(fn, args...)` and
/// `task(name:shield:onError:always:)` from this protocol's extension, so the two read and
/// check their arguments the same way.
///
/// The one requirement says where the tasks go. A ``TaskSchedulingTarget`` has no public
/// initializer, so a type of your own conforms only by handing on the target of one of
/// Loopwork's, for instance to give a batch a name of your domain.
public protocol TaskScheduling: Sendable {
    /// Where the tasks scheduled through this go: their request, their timing and their
    /// configuration.
    var schedulingTarget: TaskSchedulingTarget { get }
}

/// Where scheduled tasks go: a request, a timing and a configuration. Opaque: only ``Tasks``
/// and ``TasksBatch`` make one; ``TaskScheduling`` reads it.
public struct TaskSchedulingTarget: Sendable {
    let scope: RequestTaskScope
    let timing: TaskTiming
    let config: TaskConfig
}

extension TaskScheduling {
    /// Schedules the async function `fn(args...)`: through ``Tasks``, it starts at once,
    /// concurrently with the handler; through a ``TasksBatch``, at the batch's moment and with
    /// its configuration.
    ///
    /// - Parameters:
    ///   - fn: An async function; it runs on the request's event loop, so it must not block.
    ///   - args: Its arguments, checked against its parameters at compile time.
    ///   - fileID: Where the task was scheduled; names it in logs when it has no name.
    ///   - line: The line it was scheduled on, with `fileID`.
    /// - Returns: The task's handle.
    @discardableResult
    public func schedule<each Argument: Sendable, Success: Sendable>(
        _ fn: @escaping @Sendable (repeat each Argument) async throws -> Success,
        _ args: repeat each Argument, fileID: String = #fileID, line: Int = #line
    ) -> ScheduledTask<Success> {
        schedulingTarget.schedule(
            .async({ try await fn(repeat each args) as any Sendable }),
            origin: TaskOrigin(fileID: fileID, line: line))
    }

    /// Schedules the sync function `fn(args...)` as its async overload does, but to run on the
    /// blocking thread pool, so it never blocks the loop.
    ///
    /// - Parameters:
    ///   - fn: A sync function; it may block.
    ///   - args: Its arguments, checked against its parameters at compile time.
    ///   - fileID: Where the task was scheduled; names it in logs when it has no name.
    ///   - line: The line it was scheduled on, with `fileID`.
    /// - Returns: The task's handle.
    @discardableResult
    public func schedule<each Argument: Sendable, Success: Sendable>(
        _ fn: @escaping @Sendable (repeat each Argument) throws -> Success,
        _ args: repeat each Argument, fileID: String = #fileID, line: Int = #line
    ) -> ScheduledTask<Success> {
        schedulingTarget.schedule(
            .blocking({ try fn(repeat each args) as any Sendable }),
            origin: TaskOrigin(fileID: fileID, line: line))
    }

    /// The same tasks with a configuration; its `schedule` starts tasks with it. Reusable.
    ///
    /// Each argument that is set overrides this scheduler's own value; the ones left `nil` keep
    /// it, and what neither sets comes from the app default.
    ///
    /// - Parameters:
    ///   - name: The name in logs; unset, the task is named by where it was scheduled.
    ///   - shield: Whether shutdown awaits the task instead of cancelling it.
    ///   - onError: Called with the task and its error when it throws.
    ///   - always: Whether after-route and after-response tasks run even when the handler threw.
    public func task(
        name: String? = nil, shield: Bool? = nil, onError: TaskErrorHandler? = nil,
        always: Bool? = nil
    ) -> TasksBatch {
        let target = schedulingTarget
        let config = TaskConfig(name: name, shield: shield, onError: onError, always: always)
        return TasksBatch(
            schedulingTarget: TaskSchedulingTarget(
                scope: target.scope, timing: target.timing,
                config: config.merged(over: target.config)))
    }
}

extension TaskSchedulingTarget {
    func schedule<Success: Sendable>(_ body: TaskBody, origin: TaskOrigin) -> ScheduledTask<Success> {
        scope.schedule(body, timing: timing, config: config, origin: origin)
    }
}

/// The tasks of one timing and one configuration: ``Tasks/afterRoute`` and
/// ``Tasks/afterResponse`` (with the app's default configuration), or what
/// `task(name:shield:onError:always:)` returns.
///
/// Tasks start in the order scheduled and run concurrently. A task added after its batch
/// started (from another task, say) starts at once.
public struct TasksBatch: TaskScheduling {
    /// The request, timing and configuration of this batch's tasks.
    public let schedulingTarget: TaskSchedulingTarget

    init(schedulingTarget: TaskSchedulingTarget) {
        self.schedulingTarget = schedulingTarget
    }

    init(scope: RequestTaskScope, timing: TaskTiming) {
        schedulingTarget = TaskSchedulingTarget(scope: scope, timing: timing, config: TaskConfig())
    }

    /// When this batch's tasks start.
    public var timing: TaskTiming { schedulingTarget.timing }
    /// The configuration of this batch's tasks; unset fields come from the app default.
    public var config: TaskConfig { schedulingTarget.config }
}
