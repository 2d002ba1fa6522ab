/// Schedules one request's background tasks: immediate ones with `schedule(fn, args...)`,
/// later ones through ``afterRoute`` and ``afterResponse``, configured ones through
/// `task(name:shield:onError:always:)`.
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
public struct Tasks: TaskScheduling {
    let scope: RequestTaskScope

    init(scope: RequestTaskScope) {
        self.scope = scope
    }

    /// The same for every scheduler of one request, different for each request.
    package var requestScope: ObjectIdentifier { ObjectIdentifier(scope.context) }

    /// Tasks that start when the handler has returned, before the response is written.
    public var afterRoute: TasksBatch { TasksBatch(scope: scope, timing: .afterRoute) }
    /// Tasks that start once the response has been written, or the client is gone.
    public var afterResponse: TasksBatch { TasksBatch(scope: scope, timing: .afterResponse) }

    /// Immediate tasks with the app's default configuration: `schedule` starts them at once,
    /// concurrently with the handler.
    public var schedulingTarget: TaskSchedulingTarget {
        TaskSchedulingTarget(scope: scope, timing: .immediate, config: TaskConfig())
    }
}

extension Tasks: RequestDependency {
    /// A scheduler for the request. Every one made for the same request schedules into the same
    /// tasks, which the request's context keeps, so a handler and its dependencies share them.
    public static func resolve(from request: Request) async throws -> Tasks {
        let context = request.context
        guard let supervisor = context.services.service(TaskSupervisor.self) else {
            throw AppConfigurationError(missingSupervisorMessage(route: context.route ?? request.path))
        }
        let environment = TaskEnvironment(
            supervisor: supervisor, host: context.host, baseLogger: context.baseLogger,
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
