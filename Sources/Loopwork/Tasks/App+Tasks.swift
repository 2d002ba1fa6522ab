public import Metrics

extension App {
    /// Enables ``Tasks`` in handlers: installs the app's task supervisor.
    ///
    /// - Parameters:
    ///   - config: App-wide task defaults; a task's own `task(name:shield:onError:always:)`
    ///     values override them field by field.
    ///   - shutdownDeadline: How long shutdown waits for shielded tasks and running blocking work
    ///     (bounded as well by the server's own shutdown deadline).
    ///   - maxConcurrentTasks: How many tasks may run at once; more wait in FIFO order, never
    ///     dropped. `nil` for no limit.
    ///   - metricsFactory: Where task metrics go; `nil` uses the global `MetricsSystem.factory`.
    public func addTasks(
        config: TaskConfig = TaskConfig(), shutdownDeadline: Duration = .seconds(30),
        maxConcurrentTasks: Int? = nil, metricsFactory: (any MetricsFactory)? = nil
    ) {
        services.install(
            TaskSupervisor(
                defaults: config, shutdownDeadline: shutdownDeadline,
                maxConcurrentTasks: maxConcurrentTasks,
                metrics: TaskMetrics(factory: metricsFactory ?? MetricsSystem.factory)))
    }
}

extension App {
    /// How many background tasks this app has scheduled and how each ended, since it was
    /// created; `nil` before ``addTasks(config:shutdownDeadline:maxConcurrentTasks:metricsFactory:)``.
    /// Logged at shutdown as `background task totals`.
    public var taskTotals: TaskTotals? {
        services.service(TaskSupervisor.self)?.totals
    }
}
