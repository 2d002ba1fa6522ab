import CLibUV
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One libuv loop running on a thread of its own.
///
/// Only ``execute(_:)``, ``executor``, ``taskExecutor``, ``inEventLoop``, the file-system calls
/// (``realPath(_:)``, ``status(ofPath:)``, ``LoopFile``) and the shutdown methods may be called from
/// any thread; everything else (timers, work, sockets) must be called on the loop's thread, from
/// a job it runs or a callback it makes. Shut a loop down before dropping it: its thread runs
/// until then.
public final class EventLoop: Sendable {
    let core: LoopCore
    /// The loop as a serial executor, for actors pinned to it.
    public let executor: EventLoopExecutor
    /// The loop as a task executor: tasks that prefer it run here, and so do the nonisolated
    /// async functions they call.
    public let taskExecutor: EventLoopTaskExecutor

    /// Which thread runs a loop.
    public enum Thread: Sendable {
        /// A thread of the loop's own, started by the initializer.
        case own
        /// The thread that calls ``EventLoop/run()``: for tests that want every callback on a
        /// thread they control, and for programs whose main thread should be the loop.
        case caller
    }

    /// Creates the loop and, unless `thread` is `.caller`, starts its thread.
    ///
    /// - Parameters:
    ///   - name: The thread's name, as shown by debuggers and `top -H` (own thread only).
    ///   - thread: Who runs the loop. With `.caller`, nothing runs until ``run()`` is called.
    /// - Throws: ``UVError`` when libuv cannot create the loop, its wake-up handle or thread.
    public init(name: String = "loopwork-loop", thread: Thread = .own) throws(UVError) {
        core = try LoopCore(name: name)
        executor = EventLoopExecutor(core: core)
        taskExecutor = EventLoopTaskExecutor(core: core)
        // Weak in the core: the loop owns its executors, and the core may outlive the loop.
        core.executor = executor
        core.taskExecutor = taskExecutor
        if thread == .own { try core.startThread() }
    }

    /// Runs a loop created with `thread: .caller` on the calling thread, and returns once it was
    /// shut down (from a job, a callback or another thread) and closed. Call it once; work
    /// submitted before the call waits for it. Never call it on a thread of Swift's cooperative
    /// pool: it blocks the thread for as long as the loop runs.
    public func run() {
        core.runOnCallerThread()
    }

    /// Whether the caller runs on this loop's thread.
    public var inEventLoop: Bool { core.inEventLoop }

    /// Runs `job` on the loop's thread, in submission order. Many submissions between two loop
    /// iterations cost one wake-up. Any thread.
    ///
    /// - Returns: `false` once shutdown was requested (or the loop has shut down); the job then
    ///   does not run. Jobs accepted before the request still run.
    @discardableResult
    public func execute(_ job: @escaping @Sendable () -> Void) -> Bool {
        core.submit(.closure(job))
    }

    /// Runs `body` on the loop's thread so that each task it starts preferring ``taskExecutor``
    /// begins at once, on this thread, and runs until its first suspension before `body` goes on,
    /// the way `Task.immediate` starts a task; the rest of the task runs on the loop as usual.
    ///
    /// `Task.immediate` itself cannot do this from a libuv callback: outside any executor, a task
    /// preferring an executor is always queued first. Loop thread only, and not nested. Called
    /// from inside a running task (a caller-thread loop run from a task), where starting another
    /// task's job on the same thread is not allowed, `body` runs with ordinary, queued starts.
    public func startingTasksInline<Result>(_ body: () throws -> Result) rethrows -> Result {
        assertInLoop()
        // Only the framework's read path calls this, once per read callback, and libuv never
        // runs a read callback inside another: no input can nest it.
        precondition(!core.startsTasksInline, "startingTasksInline must not be nested")
        guard withUnsafeCurrentTask(body: { $0 == nil }) else { return try body() }
        core.startsTasksInline = true
        defer { core.startsTasksInline = false }
        return try body()
    }

    /// The status `uv_loop_close` returned when the loop stopped (0 when every handle was
    /// closed), or `nil` while the loop runs.
    public var closeStatus: Int32? { core.closeStatus }

    /// Stops the loop: closes every handle still open, runs it until empty, closes it, and joins
    /// its thread. Jobs submitted before the call still run. Blocks until done, except when
    /// called on the loop's own thread, where it only starts the shutdown (so a caller-thread
    /// loop's ``run()`` returns once it is done). Idempotent.
    public func shutdown() {
        core.requestStop()
        guard !core.inEventLoop else { return }
        core.waitUntilStopped()
    }

    /// ``shutdown()`` without blocking a thread of Swift's cooperative pool.
    public func shutdownGracefully() async {
        core.requestStop()
        await withCheckedContinuation { continuation in
            core.whenStopped { continuation.resume() }
        }
        core.join()
    }

    /// Traps unless called on the loop's thread: a programming error, never reachable from input.
    func assertInLoop(_ function: StaticString = #function) {
        core.assertInLoop(function)
    }

    /// Loop thread only. Throws ``UVError/loopClosed`` once the stop is closing the handles: a
    /// handle or work opened then would keep the stopping loop alive.
    func checkAccepting(_ function: StaticString = #function) throws(UVError) {
        assertInLoop(function)
        if !core.isAcceptingHandles { throw UVError.loopClosed }
    }

    var uvLoop: UnsafeMutablePointer<uv_loop_t> { core.uvLoop }

    /// A buffer reused by every read on this loop: a read callback consumes its bytes before the
    /// next allocation, so one buffer per loop suffices.
    var readBuffer: UnsafeMutableRawBufferPointer { core.readBuffer }
}
