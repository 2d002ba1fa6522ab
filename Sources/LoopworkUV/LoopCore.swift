import CLibUV
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Work handed to a loop from any thread.
enum LoopJob {
    case closure(@Sendable () -> Void)
    /// A job of an actor pinned to the loop: runs isolated to the loop's serial executor.
    case serialJob(UnownedJob)
    /// A task that prefers the loop, running code outside any actor: runs on the task executor
    /// with generic isolation, so the nonisolated code it runs needs no further hop.
    case taskJob(UnownedJob)
}

/// The thread-safe heart of an ``EventLoop``: the `uv_loop_t`, its thread, the queue that other
/// threads feed through one `uv_async_t`, and the lock-free queue the loop thread feeds itself.
// @unchecked: `uvLoop`, `wakeup`, `readBuffer`, `pendingWork` and the `local*` members are
// touched only on the loop thread (after `init` finished, before the thread was started);
// everything shared across threads is in `state` (a pthread lock) or atomics.
final class LoopCore: @unchecked Sendable {
    let uvLoop: UnsafeMutablePointer<uv_loop_t>
    private let wakeup: UnsafeMutablePointer<uv_async_t>
    let readBuffer: UnsafeMutableRawBufferPointer
    private let name: String
    private let threadID = Atomic<UInt>(0)
    private let state = Locked(State())
    /// Mirrors `State.stopRequested` so the loop thread can refuse closures without the lock.
    private let stopRequested = Atomic<Bool>(false)
    weak var executor: EventLoopExecutor?
    weak var taskExecutor: EventLoopTaskExecutor?
    /// Jobs the loop thread submitted to itself: most jobs (a task resuming, an actor call, a
    /// request's handler task) come from the loop's own callbacks, and need neither the lock nor
    /// an `eventfd` wake-up. A check handle runs them right after the I/O poll that queued them;
    /// an idle handle, active while jobs wait, keeps the next poll from blocking.
    private var localQueue: [LoopJob] = []
    /// The jobs ``drainLocal()`` runs, with `localQueue`'s previous buffer.
    private var localRunning: [LoopJob] = []
    private let localCheck: UnsafeMutablePointer<uv_check_t>
    private let localIdle: UnsafeMutablePointer<uv_idle_t>
    private var localIdleActive = false
    private var localStopped = false
    /// Set by ``EventLoop/startingTasksInline(_:)``: the next task job enqueued from the loop
    /// thread runs at once instead of being queued.
    var startsTasksInline = false
    /// Thread-pool requests (queued work, file-system calls) whose callback has not run. Loop
    /// thread only: shutdown withdraws the ones not started yet instead of waiting for them.
    private var pendingWork: Set<UnsafeMutablePointer<uv_req_t>> = []

    enum Phase { case running, stopping, stopped }

    private struct State {
        var phase = Phase.running
        /// Set by the first shutdown request: from then on `execute` closures are refused (tasks
        /// still run on the loop until it stopped).
        var stopRequested = false
        var queue: [LoopJob] = []
        var wakePending = false
        var closeStatus: Int32?
        var stopWaiters: [() -> Void] = []
        var thread: uv_thread_t?
        var joined = false
        /// A caller-thread loop's `run()` was called.
        var runStarted = false
    }

    /// A write to a socket whose peer has gone raises SIGPIPE, whose default action kills the
    /// process; libuv reports the failure as `EPIPE` instead once the signal is ignored. Done once,
    /// when the first loop is created.
    private static let ignoreBrokenPipes: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    init(name: String) throws(UVError) {
        Self.ignoreBrokenPipes
        self.name = name
        uvLoop = .allocate(capacity: 1)
        let status = uv_loop_init(uvLoop)
        guard status == 0 else {
            uvLoop.deallocate()
            throw UVError(code: status, operation: "uv_loop_init")
        }
        wakeup = .allocate(capacity: 1)
        let asyncStatus = uv_async_init(uvLoop, wakeup) { handle in
            guard let data = handle?.pointee.data else { return }
            Unmanaged<LoopCore>.fromOpaque(data).takeUnretainedValue().drain()
        }
        guard asyncStatus == 0 else {
            wakeup.deallocate()
            uv_loop_close(uvLoop)
            uvLoop.deallocate()
            throw UVError(code: asyncStatus, operation: "uv_async_init")
        }
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        // The async, check and idle handles live exactly as long as the loop; the core outlives
        // all of them. Check and idle are unreferenced: they never keep a finished loop running.
        localCheck = .allocate(capacity: 1)
        uv_check_init(uvLoop, localCheck)
        localIdle = .allocate(capacity: 1)
        uv_idle_init(uvLoop, localIdle)
        let context = Unmanaged.passUnretained(self).toOpaque()
        wakeup.pointee.data = context
        localCheck.pointee.data = context
        uv_check_start(localCheck) { handle in
            guard let data = handle?.pointee.data else { return }
            Unmanaged<LoopCore>.fromOpaque(data).takeUnretainedValue().drainLocal()
        }
        uv_unref(loopwork_check_as_handle(localCheck))
        uv_unref(loopwork_idle_as_handle(localIdle))
    }

    deinit {
        readBuffer.deallocate()
        if state.withLock({ $0.phase }) == .stopped {
            wakeup.deallocate()
            localCheck.deallocate()
            localIdle.deallocate()
            uvLoop.deallocate()
        }
        // A loop that was never shut down still has its thread using this memory: leaking it is
        // the only safe choice.
    }

    func startThread() throws(UVError) {
        let thread = try spawnThread { [self] in runThread() }
        state.withLock { $0.thread = thread }
    }

    var inEventLoop: Bool {
        let id = threadID.load(ordering: .acquiring)
        return id != 0 && id == Self.currentThreadID()
    }

    private static func currentThreadID() -> UInt {
        UInt(bitPattern: Int(bitPattern: pthread_self()))
    }

    /// Traps unless on the loop thread: a programming error, never reachable from input.
    func assertInLoop(_ function: StaticString = #function) {
        precondition(inEventLoop, "\(function) must be called on the event loop's thread")
    }

    /// Whether the loop still accepts new handles and work: until the stop closes every handle.
    /// Jobs accepted before the shutdown request run normally; what they open is closed with
    /// the rest.
    var isAcceptingHandles: Bool { state.withLock { $0.phase == .running } }

    var closeStatus: Int32? { state.withLock { $0.closeStatus } }

    // MARK: Submission (any thread)

    /// Queues `job`; returns false once the loop has stopped, and for closures once shutdown was
    /// requested.
    func submit(_ job: LoopJob) -> Bool {
        if inEventLoop { return submitLocally(job) }
        return state.withLock { state in
            guard state.phase != .stopped else { return false }
            if case .closure = job, state.stopRequested { return false }
            state.queue.append(job)
            if !state.wakePending {
                state.wakePending = true
                // Sent under the lock: the handle cannot be closing while the phase is not
                // `.stopped`, which only the loop thread sets, also under this lock.
                uv_async_send(wakeup)
            }
            return true
        }
    }

    /// Refuses further closures and queues the stop behind everything submitted so far.
    func requestStop() {
        let job = LoopJob.closure { [self] in beginStop() }
        state.withLock { state in
            guard !state.stopRequested, state.phase != .stopped else { return }
            state.stopRequested = true
            stopRequested.store(true, ordering: .releasing)
            state.queue.append(job)
            if !state.wakePending {
                state.wakePending = true
                uv_async_send(wakeup)
            }
        }
    }

    // MARK: Loop thread

    private func submitLocally(_ job: LoopJob) -> Bool {
        guard !localStopped else { return false }
        if case .closure = job, stopRequested.load(ordering: .acquiring) { return false }
        localQueue.append(job)
        if !localIdleActive {
            localIdleActive = true
            uv_idle_start(localIdle) { _ in }
        }
        return true
    }

    /// Runs the jobs queued so far by the loop thread; what they queue runs after the next poll.
    private func drainLocal() {
        guard !localQueue.isEmpty else { return }
        // Two buffers taking turns: emptying a queue still shared with the jobs being run would
        // allocate a new one on every drain.
        swap(&localQueue, &localRunning)
        for job in localRunning { run(job) }
        localRunning.removeAll(keepingCapacity: true)
        if localQueue.isEmpty, localIdleActive {
            localIdleActive = false
            uv_idle_stop(localIdle)
        }
    }

    private func runThread() {
        name.withCString { loopwork_set_thread_name($0) }
        runLoop()
    }

    /// Runs the loop on the calling thread until it stops; the thread is not renamed, since it
    /// belongs to the caller. Traps when called twice or on a loop with a thread of its own.
    func runOnCallerThread() {
        let first = state.withLock { state in
            defer { state.runStarted = true }
            return !state.runStarted && state.thread == nil
        }
        // A misuse of the API by the program itself (a second run(), or run() on an own-thread
        // loop): no request can reach it, and two threads running one libuv loop would corrupt it.
        precondition(first, "EventLoop.run() may be called once, and only on a loop created with thread: .caller")
        runLoop()
    }

    private func runLoop() {
        threadID.store(Self.currentThreadID(), ordering: .releasing)
        uv_run(uvLoop, UV_RUN_DEFAULT)
        finishStop()
        // The thread ends: its pthread id may be reused by a new thread, which is not the loop.
        threadID.store(0, ordering: .releasing)
    }

    /// Runs every queued job. A job that queues more is picked up in the next round, after
    /// libuv polled I/O once, so a busy stream of jobs never starves sockets and timers.
    private func drain() {
        let jobs = state.withLock { state in
            state.wakePending = false
            defer { state.queue.removeAll(keepingCapacity: true) }
            return state.queue
        }
        for job in jobs { run(job) }
    }

    private func run(_ job: LoopJob) {
        switch job {
        case .closure(let closure):
            closure()
        case .serialJob(let job):
            if let executor, let taskExecutor {
                job.runSynchronously(
                    isolatedTo: executor.asUnownedSerialExecutor(),
                    taskExecutor: taskExecutor.asUnownedTaskExecutor())
            }
        case .taskJob(let job):
            if let taskExecutor {
                job.runSynchronously(on: taskExecutor.asUnownedTaskExecutor())
            }
        }
    }

    func workStarted(_ request: UnsafeMutablePointer<uv_req_t>) { pendingWork.insert(request) }
    func workFinished(_ request: UnsafeMutablePointer<uv_req_t>) { pendingWork.remove(request) }

    /// First step of stopping, on the loop: close every handle but the wake-up, which stays
    /// (unreferenced) so late submissions still wake the loop while handles finish closing.
    private func beginStop() {
        guard state.withLock({ $0.phase }) == .running else { return }
        state.withLock { $0.phase = .stopping }
        closeAllHandles()
        // Work a pool thread has not picked up yet completes with ECANCELED now; running work is
        // waited for (uv_loop_close needs it finished).
        for request in pendingWork { uv_cancel(request) }
        uv_unref(loopwork_async_as_handle(wakeup))
    }

    /// Closes every open handle except the core's own (wake-up, check, idle), through its Swift
    /// owner so the owner's +1 is released in the close callback.
    private func closeAllHandles() {
        uv_walk(
            uvLoop,
            { handle, _ in
                guard let handle, uv_is_closing(handle) == 0 else { return }
                switch handle.pointee.type {
                case UV_ASYNC, UV_CHECK, UV_IDLE: return
                default: break
                }
                if let data = handle.pointee.data {
                    Unmanaged<LoopHandle>.fromOpaque(data).takeUnretainedValue().close()
                } else {
                    uv_close(handle, nil)
                }
            }, nil)
    }

    /// Last step, on the loop thread after `uv_run` returned: run what was submitted meanwhile,
    /// close the wake-up handle and the loop.
    private func finishStop() {
        while true {
            var jobs = localQueue
            localQueue.removeAll()
            jobs += state.withLock { state in
                if state.queue.isEmpty, jobs.isEmpty {
                    state.phase = .stopped
                    localStopped = true
                }
                defer { state.queue.removeAll() }
                return state.queue
            }
            if jobs.isEmpty { break }
            for job in jobs { run(job) }
            // Jobs that ran this late may have opened handles; nothing may keep the loop alive.
            closeAllHandles()
            uv_run(uvLoop, UV_RUN_DEFAULT)
        }
        uv_close(loopwork_async_as_handle(wakeup), nil)
        uv_close(loopwork_check_as_handle(localCheck), nil)
        uv_close(loopwork_idle_as_handle(localIdle), nil)
        uv_run(uvLoop, UV_RUN_DEFAULT)
        let status = uv_loop_close(uvLoop)
        let waiters = state.withLock { state in
            state.closeStatus = status
            defer { state.stopWaiters = [] }
            return state.stopWaiters
        }
        for waiter in waiters { waiter() }
    }

    // MARK: Waiting for the stop

    func whenStopped(_ callback: @escaping () -> Void) {
        let stopped = state.withLock { state in
            if state.closeStatus == nil { state.stopWaiters.append(callback) }
            return state.closeStatus != nil
        }
        if stopped { callback() }
    }

    func waitUntilStopped() {
        let semaphore = DispatchSemaphore(value: 0)
        whenStopped { semaphore.signal() }
        semaphore.wait()
        join()
    }

    /// Joins the loop thread once it ended; later calls return at once.
    func join() {
        let thread: uv_thread_t? = state.withLock { state in
            guard !state.joined, state.closeStatus != nil, let thread = state.thread else { return nil }
            state.joined = true
            return thread
        }
        guard var thread else { return }
        uv_thread_join(&thread)
    }
}
