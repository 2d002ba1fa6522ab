/// How many background tasks an app has had since it started, by outcome: what lets an operator
/// check from outside that every task a response acknowledged has run.
///
/// Each task is counted once in `scheduled` and, when it ends, once in `completed`, `cancelled`,
/// `discarded` or `abandoned`; a task that is neither is still waiting or running
/// (``unfinished``). At shutdown, after the drain, every task has an outcome. While the app
/// serves, the counters are read one after another, not as one snapshot, so they may lag each
/// other by the tasks that ended while they were read; never below what happened before the read.
public struct TaskTotals: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Tasks handed to ``Tasks`` (any timing), including those later discarded.
    public var scheduled: Int
    /// Tasks whose function ran to its end, returning or throwing; `failed` counts those that threw.
    public var completed: Int
    /// Tasks whose function threw (a part of `completed`).
    public var failed: Int
    /// Tasks cancelled before or while running: by shutdown (unshielded ones) or through their
    /// handle's `cancel()`.
    public var cancelled: Int
    /// After-route and after-response tasks dropped because their handler threw or their streamed
    /// response body failed (unless scheduled with `always: true`).
    public var discarded: Int
    /// Tasks still running when the shutdown deadline passed; logged by name at shutdown.
    public var abandoned: Int

    /// Creates totals; the library makes them, tests may compare against them.
    public init(
        scheduled: Int = 0, completed: Int = 0, failed: Int = 0, cancelled: Int = 0, discarded: Int = 0,
        abandoned: Int = 0
    ) {
        self.scheduled = scheduled
        self.completed = completed
        self.failed = failed
        self.cancelled = cancelled
        self.discarded = discarded
        self.abandoned = abandoned
    }

    /// Tasks scheduled that have no outcome yet: waiting for their moment or a slot, or running.
    public var unfinished: Int { max(0, scheduled - completed - cancelled - discarded - abandoned) }

    public var description: String {
        "scheduled=\(scheduled) completed=\(completed) failed=\(failed) cancelled=\(cancelled) "
            + "discarded=\(discarded) abandoned=\(abandoned)"
    }
}
