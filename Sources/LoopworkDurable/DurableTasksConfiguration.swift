#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// How an instance uses the durable queue. The server it uses is not part of it: that is the
/// `postgres` argument of `addDurableTasks`, the one place it is given.
public struct DurableTasksConfiguration: Sendable {
    /// The schema holding the queue's tables, created at start when missing.
    public var schema: String
    /// Whether this instance runs jobs. An instance that only schedules (and serves `GET` of
    /// jobs) sets it to `false`; jobs then run on the instances that do.
    public var runsWorkers: Bool
    /// How many jobs this instance runs at once, across job types.
    public var concurrency: Int
    /// How long a claimed or held job stays this instance's without a heartbeat; after that, an
    /// instance that died loses it to the others. Heartbeats come every third of it.
    public var leaseDuration: Duration
    /// How often workers look for runnable jobs when no `NOTIFY` woke them (retries that came
    /// due, a missed notification).
    public var pollInterval: Duration
    /// How long succeeded jobs are kept for lookup before they are deleted.
    public var retention: Duration
    /// How long shutdown waits for running jobs before it returns them to the queue.
    public var shutdownDeadline: Duration
    /// Connections per worker loop for scheduling and lookups.
    public var connectionsPerLoop: Int

    /// The defaults suit a web service whose jobs take seconds.
    public init(
        schema: String = "loopwork", runsWorkers: Bool = true, concurrency: Int = 16,
        leaseDuration: Duration = .seconds(30), pollInterval: Duration = .seconds(1),
        retention: Duration = .seconds(7 * 24 * 3600), shutdownDeadline: Duration = .seconds(20),
        connectionsPerLoop: Int = 2
    ) {
        self.schema = schema
        self.runsWorkers = runsWorkers
        self.concurrency = concurrency
        self.leaseDuration = leaseDuration
        self.pollInterval = pollInterval
        self.retention = retention
        self.shutdownDeadline = shutdownDeadline
        self.connectionsPerLoop = connectionsPerLoop
    }

    func validate() throws(DurableTasksError) {
        try DurableSchema.validate(schema)
        guard concurrency >= 1, connectionsPerLoop >= 1 else {
            throw DurableTasksError("addDurableTasks: concurrency and connectionsPerLoop must be at least 1")
        }
        guard leaseDuration >= .seconds(1), pollInterval > .zero, shutdownDeadline >= .zero, retention >= .zero else {
            throw DurableTasksError("addDurableTasks: the lease must be at least 1 s, the poll interval positive")
        }
    }
}
