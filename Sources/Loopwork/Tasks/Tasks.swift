/// Schedules one request's background tasks: immediate ones with `schedule(fn, args...)`,
/// later ones through ``afterRoute`` and ``afterResponse``.
///
/// ```swift
/// app.post("/orders") { (order: JSONBody<Order>, tasks: Tasks) in
///     tasks.schedule(reserveStock, order.value.id)
///     tasks.afterResponse.schedule(sendEmail, order.value.email)
///     return ["status": "ok"]
/// }
/// ```
///
/// Every dependency of a request that asks for `Tasks` gets the same scheduler. Tasks outlive
/// their request; nothing is ever awaited by it. Requires `app.addTasks()`: an app whose route
/// asks for `Tasks` without it refuses to start.
public struct Tasks: Sendable {
    let scope: RequestTaskScope

    init(scope: RequestTaskScope) {
        self.scope = scope
    }

    /// The same for every scheduler of one request, different for each request.
    package var requestScope: ObjectIdentifier { ObjectIdentifier(scope.context) }

    private var immediate: TasksBatch { TasksBatch(scope: scope, timing: .immediate) }
    /// Tasks that start when the handler has returned, before the response is written.
    public var afterRoute: TasksBatch { TasksBatch(scope: scope, timing: .afterRoute) }
    /// Tasks that start once the response has been written, or the client is gone.
    public var afterResponse: TasksBatch { TasksBatch(scope: scope, timing: .afterResponse) }

    /// Starts `fn(args...)` at once on the request's loop, concurrently with the handler.
    ///
    /// - Parameters:
    ///   - fn: An async function; it runs on the request's event loop, so it must not block.
    ///   - args: Its arguments, checked against its parameters at compile time.
    /// - Returns: The task's handle.
    @discardableResult
    public func schedule<each Argument: Sendable, Success: Sendable>(
        _ fn: @escaping @Sendable (repeat each Argument) async throws -> Success,
        _ args: repeat each Argument, fileID: String = #fileID, line: Int = #line
    ) -> ScheduledTask<Success> {
        immediate.schedule(fn, repeat each args, fileID: fileID, line: line)
    }

    /// Starts the sync function `fn(args...)` at once on the blocking thread pool, so it never
    /// blocks the loop.
    @discardableResult
    public func schedule<each Argument: Sendable, Success: Sendable>(
        _ fn: @escaping @Sendable (repeat each Argument) throws -> Success,
        _ args: repeat each Argument, fileID: String = #fileID, line: Int = #line
    ) -> ScheduledTask<Success> {
        immediate.schedule(fn, repeat each args, fileID: fileID, line: line)
    }

    /// A configured immediate task definition; its `schedule` starts tasks with this configuration.
    ///
    /// - Parameters:
    ///   - name: The name in logs; unset, the task is named by where it was scheduled.
    ///   - shield: Whether shutdown awaits the task instead of cancelling it.
    ///   - onError: Called with the task and its error when it throws.
    ///   - always: Whether after-route and after-response tasks run even when the handler threw.
    public func task(name: String? = nil, shield: Bool? = nil, onError: TaskErrorHandler? = nil,
                     always: Bool? = nil) -> TaskDefinition {
        immediate.task(name: name, shield: shield, onError: onError, always: always)
    }
}

/// The tasks of one timing, ``Tasks/afterRoute`` or ``Tasks/afterResponse``;
/// the same API as the scheduler.
///
/// Tasks start in the order scheduled and run concurrently. A task added after its batch
/// started (from another task, say) starts at once.
public struct TasksBatch: Sendable {
    let scope: RequestTaskScope
    /// When this batch's tasks start.
    public let timing: TaskTiming

    /// Schedules the async function `fn(args...)` for this batch's moment, on the request's loop.
    @discardableResult
    public func schedule<each Argument: Sendable, Success: Sendable>(
        _ fn: @escaping @Sendable (repeat each Argument) async throws -> Success,
        _ args: repeat each Argument, fileID: String = #fileID, line: Int = #line
    ) -> ScheduledTask<Success> {
        scope.schedule(.async({ try await fn(repeat each args) as any Sendable }), timing: timing, config: TaskConfig(),
                       origin: TaskOrigin(fileID: fileID, line: line))
    }

    /// Schedules the sync function `fn(args...)` for this batch's moment, on the blocking pool.
    @discardableResult
    public func schedule<each Argument: Sendable, Success: Sendable>(
        _ fn: @escaping @Sendable (repeat each Argument) throws -> Success,
        _ args: repeat each Argument, fileID: String = #fileID, line: Int = #line
    ) -> ScheduledTask<Success> {
        scope.schedule(.blocking({ try fn(repeat each args) as any Sendable }), timing: timing, config: TaskConfig(),
                       origin: TaskOrigin(fileID: fileID, line: line))
    }

    /// A configured task definition for this batch; see ``Tasks/task(name:shield:onError:always:)``.
    public func task(name: String? = nil, shield: Bool? = nil, onError: TaskErrorHandler? = nil,
                     always: Bool? = nil) -> TaskDefinition {
        TaskDefinition(scope: scope, timing: timing,
                       config: TaskConfig(name: name, shield: shield, onError: onError, always: always))
    }
}

/// A task configuration bound to a timing, from `task(name:shield:onError:always:)`; reusable.
public struct TaskDefinition: Sendable {
    let scope: RequestTaskScope
    /// When tasks scheduled through this definition start.
    public let timing: TaskTiming
    /// The per-task configuration; unset fields come from the app default.
    public let config: TaskConfig

    /// Schedules the async function `fn(args...)` with this configuration.
    @discardableResult
    public func schedule<each Argument: Sendable, Success: Sendable>(
        _ fn: @escaping @Sendable (repeat each Argument) async throws -> Success,
        _ args: repeat each Argument, fileID: String = #fileID, line: Int = #line
    ) -> ScheduledTask<Success> {
        scope.schedule(.async({ try await fn(repeat each args) as any Sendable }), timing: timing, config: config,
                       origin: TaskOrigin(fileID: fileID, line: line))
    }

    /// Schedules the sync function `fn(args...)` with this configuration, on the blocking pool.
    @discardableResult
    public func schedule<each Argument: Sendable, Success: Sendable>(
        _ fn: @escaping @Sendable (repeat each Argument) throws -> Success,
        _ args: repeat each Argument, fileID: String = #fileID, line: Int = #line
    ) -> ScheduledTask<Success> {
        scope.schedule(.blocking({ try fn(repeat each args) as any Sendable }), timing: timing, config: config,
                       origin: TaskOrigin(fileID: fileID, line: line))
    }
}

extension Tasks: RequestDependency {
    /// The request's scheduler, created on first use and shared by every dependency of the request.
    public static func resolve(from request: Request) async throws -> Tasks {
        let context = request.context
        guard let supervisor = context.services.service(TaskSupervisor.self) else {
            throw AppConfigurationError(missingSupervisorMessage(route: context.route ?? request.path))
        }
        let environment = TaskEnvironment(supervisor: supervisor, host: context.host, baseLogger: context.baseLogger,
                                          requestID: context.requestID, route: context.route)
        // The tasks' state is the context's, so every scheduler made for the request shares it.
        return Tasks(scope: RequestTaskScope(context: context, supervisor: supervisor, environment: environment))
    }

    /// Refuses to start an app whose route asks for ``Tasks`` without `addTasks()`.
    public static func checkAvailability(in environment: DependencyEnvironment) throws {
        guard environment.services.service(TaskSupervisor.self) != nil else {
            throw AppConfigurationError(missingSupervisorMessage(route: environment.route))
        }
    }

    static func missingSupervisorMessage(route: String) -> String {
        "route '\(route)' asks for Tasks, but the app has no task supervisor: call app.addTasks() before starting the app"
    }
}
