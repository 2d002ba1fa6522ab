import Dispatch
import HTTPTypes
import Logging
import Loopwork
import LoopworkUV
import Metrics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A gate a blocking (pool-thread) function waits on.
final class TaskThreadGate: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func open() { semaphore.signal() }
    func wait() { semaphore.wait() }
}

/// An ordered record of events, awaitable by count.
final class TaskEventLog: Sendable {
    private let state = Locked<(events: [String], waiters: [(Int, CheckedContinuation<Void, Never>)])>(([], []))

    func record(_ event: String) {
        let ready = state.withLock { state in
            state.events.append(event)
            let count = state.events.count
            let ready = state.waiters.filter { $0.0 <= count }.map(\.1)
            state.waiters.removeAll { $0.0 <= count }
            return ready
        }
        for waiter in ready { waiter.resume() }
    }

    var events: [String] { state.withLock { $0.events } }

    /// Waits until at least `count` events were recorded.
    func waitFor(count: Int) async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.events.count >= count { return true }
                state.waiters.append((count, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// A serial executor on a thread of its own, standing in for a worker's libuv loop.
final class TaskTestLoop: TaskExecutor, @unchecked Sendable {
    // @unchecked: the queue is guarded by `mutex`/`condition`; `thread` is written once in init
    // before any job can be enqueued.
    private enum Work {
        case job(UnownedJob)
        case closure(@Sendable () -> Void)
    }
    private var queue: [Work] = []
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var thread = pthread_t()

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        let box = Unmanaged.passRetained(self).toOpaque()
        #if canImport(Glibc)
            pthread_create(
                &thread, nil,
                { argument in
                    guard let argument else { return nil }
                    Unmanaged<TaskTestLoop>.fromOpaque(argument).takeRetainedValue().run()
                    return nil
                }, box)
        #else
            var created: pthread_t?
            pthread_create(
                &created, nil,
                { argument in
                    Unmanaged<TaskTestLoop>.fromOpaque(argument).takeRetainedValue().run()
                    return nil
                }, box)
            if let created { thread = created }
        #endif
        pthread_detach(thread)
    }

    /// Whether the caller runs on this loop's thread.
    var isCurrent: Bool { pthread_equal(pthread_self(), thread) != 0 }

    func enqueue(_ job: consuming ExecutorJob) {
        push(.job(UnownedJob(job)))
    }

    func execute(_ closure: @escaping @Sendable () -> Void) {
        push(.closure(closure))
    }

    private func push(_ work: Work) {
        pthread_mutex_lock(mutex)
        queue.append(work)
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    private func run() {
        while true {
            pthread_mutex_lock(mutex)
            while queue.isEmpty { pthread_cond_wait(condition, mutex) }
            let work = queue.removeFirst()
            pthread_mutex_unlock(mutex)
            switch work {
            case .job(let job): job.runSynchronously(on: asUnownedTaskExecutor())
            case .closure(let closure): closure()
            }
        }
    }
}

/// A blocking pool like libuv's: FIFO, a fixed number of threads, withdrawable while queued,
/// and holdable so tests can keep work queued.
final class TaskTestPool: Sendable {
    private struct Item {
        let id: Int
        let work: @Sendable () -> Void
        let completion: @Sendable (Bool) -> Void
    }
    private let state = Locked<(items: [Item], nextID: Int, held: Bool, started: Int)>(([], 0, false, 0))
    private let available = DispatchSemaphore(value: 0)
    private let threads: Int

    init(threads: Int = 2) {
        self.threads = threads
        for _ in 0..<threads {
            TaskTestThread.start { [self] in worker() }
        }
    }

    /// Work items a pool thread has begun.
    var startedCount: Int { state.withLock { $0.started } }

    func hold() { state.withLock { $0.held = true } }

    func release() {
        state.withLock { $0.held = false }
        for _ in 0..<threads { available.signal() }
    }

    func submit(_ work: @escaping @Sendable () -> Void, completion: @escaping @Sendable (Bool) -> Void) -> Int {
        let id = state.withLock { state in
            state.nextID += 1
            state.items.append(Item(id: state.nextID, work: work, completion: completion))
            return state.nextID
        }
        available.signal()
        return id
    }

    func withdraw(_ id: Int) {
        let item = state.withLock { state -> Item? in
            guard let index = state.items.firstIndex(where: { $0.id == id }) else { return nil }
            return state.items.remove(at: index)
        }
        item?.completion(false)
    }

    private func worker() {
        while true {
            available.wait()
            let item = state.withLock { state -> Item? in
                guard !state.held, !state.items.isEmpty else { return nil }
                state.started += 1
                return state.items.removeFirst()
            }
            guard let item else { continue }
            item.work()
            item.completion(true)
            if state.withLock({ !$0.items.isEmpty }) { available.signal() }
        }
    }
}

/// Starts detached pthreads for the pool.
enum TaskTestThread {
    static func start(_ body: @escaping @Sendable () -> Void) {
        final class Box: Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        #if canImport(Glibc)
            var thread = pthread_t()
            pthread_create(
                &thread, nil,
                { argument in
                    guard let argument else { return nil }
                    Unmanaged<Box>.fromOpaque(argument).takeRetainedValue().body()
                    return nil
                }, box)
            pthread_detach(thread)
        #else
            var thread: pthread_t?
            pthread_create(
                &thread, nil,
                { argument in
                    Unmanaged<Box>.fromOpaque(argument).takeRetainedValue().body()
                    return nil
                }, box)
            if let thread { pthread_detach(thread) }
        #endif
    }
}

/// The test stand-in for a worker: a loop executor and a blocking pool whose completions run
/// on the loop, as libuv's `uv_queue_work` after-callbacks do.
final class TaskTestHost: TaskExecutionHost {
    let loop = TaskTestLoop()
    let pool: TaskTestPool

    init(poolThreads: Int = 2) {
        pool = TaskTestPool(threads: poolThreads)
    }

    var executor: any TaskExecutor { loop }

    func runBlocking(
        _ work: @escaping @Sendable () -> Void,
        completion: @escaping @Sendable (Bool) -> Void
    ) -> BlockingWorkTicket {
        let loop = loop
        let id = pool.submit(work) { ran in loop.execute { completion(ran) } }
        return BlockingWorkTicket { [pool] in pool.withdraw(id) }
    }
}

/// Captures log records for assertions.
final class TaskLogCapture: Sendable {
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let entries = Locked<[Entry]>([])

    var logger: Logger {
        var logger = Logger(label: "loopwork-tests") { _ in TaskCapturingLogHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    var all: [Entry] { entries.withLock { $0 } }

    func record(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    func entries(level: Logger.Level) -> [Entry] { all.filter { $0.level == level } }

    func entries(containing text: String) -> [Entry] { all.filter { $0.message.contains(text) } }
}

struct TaskCapturingLogHandler: LogHandler {
    let capture: TaskLogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        capture.record(
            .init(
                level: event.level, message: event.message.description,
                metadata: merged.mapValues { "\($0)" }))
    }
}

/// A metrics factory recording counter totals and timer samples by label and dimensions.
final class TaskTestMetrics: MetricsFactory {
    private let values = Locked<[String: Int64]>([:])
    private let samples = Locked<[String: [Int64]]>([:])

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        ([label] + dimensions.map { "\($0.0)=\($0.1)" }).joined(separator: "|")
    }

    /// A task counter's total, as `counter("started", .immediate)`.
    func counter(_ event: String, _ timing: TaskTiming) -> Int64 {
        values.withLock { $0[Self.key("loopwork_tasks_\(event)_total", [("timing", timing.rawValue)])] ?? 0 }
    }

    func timerSamples(_ label: String, _ timing: TaskTiming) -> [Int64] {
        samples.withLock { $0[Self.key(label, [("timing", timing.rawValue)])] ?? [] }
    }

    final class Handler: CounterHandler, FloatingPointCounterHandler, RecorderHandler, TimerHandler, Sendable {
        let key: String
        let metrics: TaskTestMetrics
        init(key: String, metrics: TaskTestMetrics) {
            self.key = key
            self.metrics = metrics
        }
        func increment(by amount: Int64) { metrics.values.withLock { $0[key, default: 0] += amount } }
        func increment(by amount: Double) {}
        func reset() { metrics.values.withLock { $0[key] = 0 } }
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
        func recordNanoseconds(_ duration: Int64) { metrics.samples.withLock { $0[key, default: []].append(duration) } }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Handler(key: Self.key(label, dimensions), metrics: self)
    }
    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        Handler(key: Self.key(label, dimensions), metrics: self)
    }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler(key: Self.key(label, dimensions), metrics: self)
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Handler(key: Self.key(label, dimensions), metrics: self)
    }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

/// An app with tasks installed, a test host, captured logs and metrics, and requests built by
/// hand: tests drive the request milestones themselves.
struct TaskHarness {
    let host: TaskTestHost
    let logs = TaskLogCapture()
    let metrics = TaskTestMetrics()
    let app: App

    init(
        config: TaskConfig = TaskConfig(), maxConcurrentTasks: Int? = nil,
        shutdownDeadline: Duration = .seconds(30), poolThreads: Int = 2, addTasks: Bool = true
    ) {
        host = TaskTestHost(poolThreads: poolThreads)
        app = App(logger: logs.logger)
        if addTasks {
            app.addTasks(
                config: config, shutdownDeadline: shutdownDeadline,
                maxConcurrentTasks: maxConcurrentTasks, metricsFactory: metrics)
        }
    }

    var supervisor: TaskSupervisor? { app.services.service(TaskSupervisor.self) }

    /// A routed request, as the server would build it.
    func request(
        _ method: HTTPRequest.Method = .post, path: String = "/orders", route: String = "/orders",
        requestID: String = "req-1"
    ) -> Request {
        let context = RequestContext(requestID: requestID, logger: app.logger, services: app.services, host: host)
        context.setRoute(route)
        return Request(
            head: HTTPRequest(method: method, scheme: "http", authority: "test", path: path), context: context)
    }

    /// A request and its scheduler, resolved the way a handler's `tasks: Tasks` parameter is.
    func scheduler(requestID: String = "req-1") async throws -> (Request, Tasks) {
        let request = request(requestID: requestID)
        return (request, try await Tasks.resolve(from: request))
    }

    /// Drains the supervisor as the server does at shutdown (its deadline is `addTasks`').
    func drain() async {
        await supervisor?.drain(logger: app.logger)
    }
}

struct TaskTestFailure: Error, Equatable, CustomStringConvertible {
    let reason: String
    init(_ reason: String) { self.reason = reason }
    var description: String { "TaskTestFailure(\(reason))" }
}
