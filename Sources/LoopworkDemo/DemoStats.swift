import Loopwork
import Synchronization

/// Counters for `GET /stats`: the demo's own task functions that ran to completion, failed, or are
/// running now, beside the library's lifetime totals of every background task.
final class DemoStats: Sendable {
    private let completedCount = Atomic<Int>(0)
    private let failedCount = Atomic<Int>(0)
    private let runningCount = Atomic<Int>(0)

    func started() { runningCount.add(1, ordering: .relaxed) }

    func completed() {
        completedCount.add(1, ordering: .relaxed)
        runningCount.subtract(1, ordering: .relaxed)
    }

    func failed() {
        failedCount.add(1, ordering: .relaxed)
        runningCount.subtract(1, ordering: .relaxed)
    }

    struct Snapshot: ResponseEncodable {
        let completed: Int
        let failed: Int
        let running: Int
        /// `App.taskTotals`: scheduled, completed, failed, cancelled, discarded, abandoned.
        let tasks: TaskTotals?
    }

    func snapshot(tasks: TaskTotals?) -> Snapshot {
        Snapshot(
            completed: completedCount.load(ordering: .relaxed),
            failed: failedCount.load(ordering: .relaxed),
            running: runningCount.load(ordering: .relaxed),
            tasks: tasks)
    }
}
