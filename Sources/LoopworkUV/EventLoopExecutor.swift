import Dispatch

/// An event loop as a Swift executor, serial and task executor at once.
///
/// Jobs join the loop's submission queue and run on its thread, so an actor whose
/// `unownedExecutor` is this executor, and a task that prefers it, never leave the loop. A job
/// enqueued after the loop stopped cannot run there; it runs on a fallback queue instead of
/// being lost, so the task it belongs to still finishes.
public final class EventLoopExecutor: SerialExecutor, TaskExecutor {
    private let core: LoopCore

    init(core: LoopCore) {
        self.core = core
        core.executor = self
    }

    private static let fallbackKey = DispatchSpecificKey<Bool>()
    private static let fallback: DispatchQueue = {
        let queue = DispatchQueue(label: "loopwork.stopped-loop-jobs")
        queue.setSpecific(key: fallbackKey, value: true)
        return queue
    }()

    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        if !core.submit(.executorJob(unowned)) {
            Self.fallback.async { [self] in
                unowned.runSynchronously(isolatedTo: asUnownedSerialExecutor(), taskExecutor: asUnownedTaskExecutor())
            }
        }
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
        precondition(core.inEventLoop || DispatchQueue.getSpecific(key: Self.fallbackKey) == true,
                     "not on the event loop's thread")
    }
}
