import Dispatch

/// An event loop as a Swift serial executor: actors whose `unownedExecutor` is this executor run
/// on the loop's thread, and libuv callbacks enter them with `assumeIsolated`.
///
/// Jobs join the loop's queue and run on its thread. A job enqueued after the loop stopped
/// cannot run there; it runs on a fallback queue instead of being lost, so the task it belongs to
/// still finishes. Tasks that should stay on the loop prefer ``EventLoop/taskExecutor``.
public final class EventLoopExecutor: SerialExecutor {
    private let core: LoopCore

    init(core: LoopCore) {
        self.core = core
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        if !core.submit(.serialJob(unowned)) { StoppedLoopFallback.run(unowned, on: self) }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(complexEquality: self)
    }

    public func isSameExclusiveExecutionContext(other: EventLoopExecutor) -> Bool {
        other === self
    }

    /// Traps unless on the loop's thread (or, after the loop stopped, the serial fallback queue
    /// that runs its late jobs); the runtime calls it for `assumeIsolated` from plain libuv
    /// callbacks. A failure is a programming error, never reachable from input.
    public func checkIsolated() {
        precondition(core.inEventLoop || StoppedLoopFallback.isCurrent, "not on the event loop's thread")
    }
}

/// An event loop as a Swift task executor: a task that prefers it
/// (`Task(executorPreference: loop.taskExecutor)`) runs its nonisolated code on the loop's thread.
///
/// Separate from ``EventLoopExecutor`` because a job does not say which executor it was enqueued
/// on: a task job run isolated to the serial executor would hop again at its first nonisolated
/// call. Run with generic isolation instead, nonisolated code needs no hop, and calls into
/// actors pinned to the loop use `assumeIsolated` on the same thread.
public final class EventLoopTaskExecutor: TaskExecutor {
    private let core: LoopCore

    init(core: LoopCore) {
        self.core = core
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        // The loop check comes first: `startsTasksInline` belongs to the loop thread, and
        // another thread reading it would race with the loop writing it.
        if core.inEventLoop, core.startsTasksInline {
            // Cleared while the job runs: what it enqueues in turn (a task it starts, a task it
            // resumes) is queued, so it cannot overtake the job that is still running.
            core.startsTasksInline = false
            unowned.runSynchronously(on: asUnownedTaskExecutor())
            core.startsTasksInline = true
            return
        }
        if !core.submit(.taskJob(unowned)) { StoppedLoopFallback.run(unowned, on: self) }
    }
}

/// Where jobs for a stopped loop run: one serial queue, so a late actor job stays serial.
enum StoppedLoopFallback {
    private static let key = DispatchSpecificKey<Bool>()
    private static let queue: DispatchQueue = {
        let queue = DispatchQueue(label: "loopwork.stopped-loop-jobs")
        queue.setSpecific(key: key, value: true)
        return queue
    }()

    static var isCurrent: Bool { DispatchQueue.getSpecific(key: key) == true }

    /// Runs a late job of a loop's actor, isolated to `executor` as the loop would have run it.
    static func run(_ job: UnownedJob, on executor: EventLoopExecutor) {
        queue.async { job.runSynchronously(on: executor.asUnownedSerialExecutor()) }
    }

    /// Runs a late job of a task preferring a loop, on `executor` as the loop would have run it.
    static func run(_ job: UnownedJob, on executor: EventLoopTaskExecutor) {
        queue.async { job.runSynchronously(on: executor.asUnownedTaskExecutor()) }
    }
}
