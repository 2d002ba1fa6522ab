public import Loopwork
import LoopworkPostgres
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
    ///   - configuration: Schema, worker and lease settings.
    ///   - metricsFactory: Where the queue's counters and timers go; `nil` uses the global
    ///     `MetricsSystem.factory`.
    /// - Throws: ``DurableTasksError`` when two job types share a name.
    public func addDurableTasks(
        postgres: String, jobs: [any DurableJob],
        configuration: DurableTasksConfiguration = DurableTasksConfiguration(),
        metricsFactory: (any MetricsFactory)? = nil
    ) throws {
        let queue = DurableQueue(
            postgres: PostgresConfiguration(postgres), configuration: configuration,
            registry: try JobRegistry(jobs),
            metricsFactory: metricsFactory ?? MetricsSystem.factory)
        services.install(queue)
    }

    /// The durable queue, once ``addDurableTasks(postgres:jobs:configuration:metricsFactory:)``
    /// installed it.
    public var durableQueue: DurableQueue? {
        services.service(DurableQueue.self)
    }
}
