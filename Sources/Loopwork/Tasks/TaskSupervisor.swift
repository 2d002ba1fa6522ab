package import Logging
import LoopworkUV
import Synchronization

/// The app-wide owner of every background task, installed by `App.addTasks`: applies the app
/// defaults, limits how many tasks run at once (the rest wait in FIFO order), counts them in
/// metrics, and drains them at shutdown.
package final class TaskSupervisor: AppService {
    let defaults: TaskConfig
    let shutdownDeadline: Duration
    let maxConcurrentTasks: Int?
    let metrics: TaskMetrics
    private let state = Locked(State())
    private let lifetime = LifetimeCounters()
    /// Set at shutdown: unshielded tasks are cancelled rather than started. An atomic, so that
    /// ``admit(_:)`` takes no lock when there is no limit.
    private let draining = Atomic<Bool>(false)

    private struct State {
        /// Every task scheduled and not yet ended, whatever its phase.
        var tracked: [ObjectIdentifier: TaskRecord] = [:]
        /// Tasks holding a slot (launched and not ended), counted only with a limit.
        var running = 0
        /// Due tasks waiting for a slot, oldest first (from `waitingHead` on).
        var waiting: [TaskRecord] = []
        var waitingHead = 0
        var drained = DrainCounts()
        var idleWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID = 0
    }

    private struct DrainCounts {
        var completed = 0
        var failed = 0
        var cancelled = 0
    }

    init(defaults: TaskConfig, shutdownDeadline: Duration, maxConcurrentTasks: Int?, metrics: TaskMetrics) {
        self.defaults = defaults
        self.shutdownDeadline = shutdownDeadline
        self.maxConcurrentTasks = maxConcurrentTasks
        self.metrics = metrics
    }

    package func appWillStart(logger: Logger) throws {
        if let limit = maxConcurrentTasks, limit < 1 {
            throw AppConfigurationError(
                "addTasks(maxConcurrentTasks: \(limit)): the limit must be at least 1, or nil for none")
        }
        draining.store(false, ordering: .releasing)
    }

    /// Every task's outcome since the app was created.
    var totals: TaskTotals { lifetime.totals }

    func track(_ task: TaskRecord) {
        lifetime.scheduled.add(1, ordering: .releasing)
        state.withLock { $0.tracked[ObjectIdentifier(task)] = task }
        metrics.count(.scheduled, task.timing)
    }

    /// Starts a task whose moment has come, or queues it behind the concurrency limit.
    func admit(_ task: TaskRecord) {
        guard let limit = maxConcurrentTasks else {
            // No slots to count: the task's own lock is the only one taken.
            if draining.load(ordering: .acquiring) && !task.config.isShielded {
                if task.markDue() { task.cancel() }
            } else {
                _ = task.launch(markingDue: true)
            }
            return
        }
        guard task.markDue() else { return }
        enum Admission { case cancel, wait, launch }
        let admission: Admission = state.withLock { state in
            if draining.load(ordering: .acquiring) && !task.config.isShielded { return .cancel }
            if state.running >= limit {
                state.waiting.append(task)
                return .wait
            }
            state.running += 1
            return .launch
        }
        switch admission {
        case .cancel: task.cancel()
        case .wait: break
        case .launch: launch([task])
        }
    }

    func taskStarted(_ task: TaskRecord, queueWait: Duration) {
        metrics.count(.started, task.timing)
        metrics.recordQueueWait(queueWait, task.timing)
    }

    /// A task reached its final state; `heldSlot` when it had been launched, so held a slot.
    func taskEnded(_ task: TaskRecord, as final: ScheduledTaskState, heldSlot: Bool, ranFor duration: Duration?) {
        let id = ObjectIdentifier(task)
        let (next, idle): ([TaskRecord], [CheckedContinuation<Void, Never>]) = state.withLock { state in
            state.tracked[id] = nil
            var next: [TaskRecord] = []
            if let limit = maxConcurrentTasks {
                if heldSlot {
                    next = Self.releaseSlot(in: &state, limit: limit)
                } else if let index = state.waiting[state.waitingHead...].firstIndex(where: { $0 === task }) {
                    // A task cancelled before it got a slot.
                    state.waiting.remove(at: index)
                }
            }
            let isDraining = draining.load(ordering: .acquiring)
            if isDraining {
                switch final {
                case .succeeded: state.drained.completed += 1
                case .failed:
                    state.drained.completed += 1
                    state.drained.failed += 1
                case .cancelled: state.drained.cancelled += 1
                case .pending, .running, .discarded: break
                }
            }
            guard isDraining, state.tracked.isEmpty else { return (next, []) }
            defer { state.idleWaiters = [:] }
            return (next, Array(state.idleWaiters.values))
        }
        lifetime.count(final)
        switch final {
        case .succeeded: metrics.count(.succeeded, task.timing)
        case .failed: metrics.count(.failed, task.timing)
        case .cancelled: metrics.count(.cancelled, task.timing)
        case .discarded: metrics.count(.discarded, task.timing)
        case .pending, .running: break
        }
        if let duration { metrics.recordRun(duration, task.timing) }
        launch(next)
        for waiter in idle { waiter.resume() }
    }

    /// Frees a slot and takes the waiting tasks that may now run.
    private static func releaseSlot(in state: inout State, limit: Int) -> [TaskRecord] {
        state.running -= 1
        var next: [TaskRecord] = []
        while state.waitingHead < state.waiting.count, state.running < limit {
            next.append(state.waiting[state.waitingHead])
            state.waitingHead += 1
            state.running += 1
        }
        if state.waitingHead > 64, state.waitingHead * 2 > state.waiting.count {
            state.waiting.removeFirst(state.waitingHead)
            state.waitingHead = 0
        }
        return next
    }

    /// Launches tasks that hold a slot, in order; a task that ended meanwhile gives its slot on.
    private func launch(_ tasks: [TaskRecord]) {
        guard let limit = maxConcurrentTasks else { return }
        var queue = tasks[...]
        while let task = queue.popFirst() {
            if task.launch() { continue }
            queue.append(contentsOf: state.withLock { Self.releaseSlot(in: &$0, limit: limit) })
        }
    }

    // MARK: Shutdown

    /// Cancels unshielded tasks (queued blocking work is withdrawn, running async tasks are
    /// cancelled cooperatively), awaits the rest up to the deadline, and logs one summary line.
    package func drain(logger: Logger) async {
        let deadline = ContinuousClock.now.advanced(by: shutdownDeadline)
        draining.store(true, ordering: .releasing)
        let (tasks, waitingUnshielded) = state.withLock { state in
            state.drained = DrainCounts()
            // Take unshielded waiters out first, so slots freed by cancellations go to
            // shielded tasks only.
            let pending = state.waiting[state.waitingHead...]
            let unshielded = pending.filter { !$0.config.isShielded }
            state.waiting = pending.filter { $0.config.isShielded }
            state.waitingHead = 0
            return (Array(state.tracked.values), unshielded)
        }
        for task in waitingUnshielded { task.cancel() }
        for task in tasks { task.cancelForShutdown() }
        await waitUntilIdle(before: deadline)
        let (counts, abandoned) = state.withLock { state in
            (state.drained, state.tracked.values.map { "\($0.name) (\($0.timing), \($0.state))" }.sorted())
        }
        var metadata: Logger.Metadata = [
            "completed": "\(counts.completed)",
            "failed": "\(counts.failed)",
            "cancelled": "\(counts.cancelled)",
            "abandoned": "\(abandoned.count)",
        ]
        if !abandoned.isEmpty {
            metadata["abandoned-tasks"] = "\(abandoned.joined(separator: ", "))"
        }
        logger.log(level: abandoned.isEmpty ? .info : .warning, "background tasks drained", metadata: metadata)
        lifetime.abandoned.store(abandoned.count, ordering: .releasing)
        let totals = lifetime.totals
        logger.info(
            "background task totals",
            metadata: [
                "scheduled": "\(totals.scheduled)", "completed": "\(totals.completed)", "failed": "\(totals.failed)",
                "cancelled": "\(totals.cancelled)", "discarded": "\(totals.discarded)",
                "abandoned": "\(totals.abandoned)",
            ])
    }

    private func waitUntilIdle(before deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.idle() }
            group.addTask { try? await Task.sleep(until: deadline, clock: .continuous) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Returns once no task is tracked, or when the calling task is cancelled.
    private func idle() async {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.tracked.isEmpty || Task.isCancelled { return true }
                    state.idleWaiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.idleWaiters.removeValue(forKey: id) }?.resume()
        }
    }
}

/// The lifetime counts behind ``TaskTotals``: atomics, so that counting costs no lock.
private final class LifetimeCounters: Sendable {
    let scheduled = Atomic<Int>(0)
    let succeeded = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let cancelled = Atomic<Int>(0)
    let discarded = Atomic<Int>(0)
    let abandoned = Atomic<Int>(0)

    func count(_ final: ScheduledTaskState) {
        switch final {
        case .succeeded: succeeded.add(1, ordering: .releasing)
        case .failed: failed.add(1, ordering: .releasing)
        case .cancelled: cancelled.add(1, ordering: .releasing)
        case .discarded: discarded.add(1, ordering: .releasing)
        case .pending, .running: break
        }
    }

    var totals: TaskTotals {
        // Outcomes first, then `scheduled`: a task is scheduled before it ends, so the totals
        // never show more ended tasks than scheduled ones.
        let failed = failed.load(ordering: .acquiring)
        let succeeded = succeeded.load(ordering: .acquiring)
        let cancelled = cancelled.load(ordering: .acquiring)
        let discarded = discarded.load(ordering: .acquiring)
        let abandoned = abandoned.load(ordering: .acquiring)
        return TaskTotals(
            scheduled: scheduled.load(ordering: .acquiring), completed: succeeded + failed, failed: failed,
            cancelled: cancelled, discarded: discarded, abandoned: abandoned)
    }
}
