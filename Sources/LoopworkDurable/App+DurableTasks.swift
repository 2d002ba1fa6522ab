public import Loopwork
public import Metrics

extension App {
    /// Enables durable tasks: jobs recorded in PostgreSQL before the response confirms them, run
    /// by whichever instance of the app is free, surviving restarts.
    ///
    /// The schema is created or migrated at start; a database that cannot be reached then fails
    /// the start with its reason. Handlers schedule with a ``DurableTasks`` parameter, and look
    /// jobs up with a ``DurableQueue`` parameter.
    ///
    /// - Parameters:
    ///   - postgres: The server, as a libpq URL or connection string.
    ///   - jobs: The job types this instance schedules and runs, each with a unique name.
    ///   - configuration: Schema, worker and lease settings; `postgres` overrides its server.
    ///   - metricsFactory: Where the queue's counters and timers go; `nil` uses the global
    ///     `MetricsSystem.factory`.
    /// - Throws: ``DurableTasksError`` when two job types share a name.
    public func addDurableTasks(
        postgres: String, jobs: [any DurableJob],
        configuration: DurableTasksConfiguration? = nil,
        metricsFactory: (any MetricsFactory)? = nil
    ) throws {
        var settings = configuration ?? DurableTasksConfiguration(postgres: postgres)
        settings.postgres = postgres
        let queue = DurableQueue(
            configuration: settings, registry: try JobRegistry(jobs),
            metricsFactory: metricsFactory ?? MetricsSystem.factory)
        services.install(queue)
    }

    /// The durable queue, once ``addDurableTasks(postgres:jobs:configuration:metricsFactory:)``
    /// installed it.
    public var durableQueue: DurableQueue? {
        services.service(DurableQueue.self)
    }
}
