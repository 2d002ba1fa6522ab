import HTTPTypes
import Logging
import LoopworkHTTP
import LoopworkUV

/// A started app: its loops, workers and the shutdown sequence that stops them in order.
final class AppRuntime: Sendable {
    let app: App
    let loops: [EventLoop]
    let workers: [WorkerServer]
    let port: Int
    private let state = Locked(State())

    private struct State {
        var shutdownStarted = false
        var stopped = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private init(app: App, loops: [EventLoop], workers: [WorkerServer], port: Int) {
        self.app = app
        self.loops = loops
        self.workers = workers
        self.port = port
    }

    /// Checks the app, starts `workers` loops and, when `listen`, binds every worker's listener
    /// to the same port (the first binds, the rest join with `SO_REUSEPORT`).
    static func start(_ app: App, listen: Bool, host: String? = nil, port: Int? = nil) async throws -> AppRuntime {
        let responder = try app.prepare()
        let configuration = app.configuration
        let workerCount = listen ? (configuration.workers ?? AvailableParallelism.count) : 1
        let dateCache = HTTPDateCache()
        var loops: [EventLoop] = []
        var workers: [WorkerServer] = []
        var startedServices: [any AppService] = []
        do {
            for index in 0..<workerCount {
                let loop = try EventLoop(name: "loopwork-\(index)")
                loops.append(loop)
                let context = WorkerContext(
                    index: index, loop: loop, responder: responder, configuration: configuration,
                    services: app.services, logger: app.logger, dateCache: dateCache)
                workers.append(WorkerServer(worker: context))
            }
            for service in app.services.all {
                try await service.appDidStartLoops(loops, logger: app.logger)
                startedServices.append(service)
            }
            var port = port ?? configuration.port
            let host = host ?? configuration.host
            if listen {
                for worker in workers {
                    port = try await worker.start(host: host, port: port)
                }
                app.logger.info(
                    "listening",
                    metadata: [
                        "address": "\(host):\(port)", "workers": "\(workerCount)",
                    ])
            }
            return AppRuntime(app: app, loops: loops, workers: workers, port: port)
        } catch {
            // A service that started before the failure lets go of what it opened on the loops.
            for service in startedServices { await service.drain(logger: app.logger) }
            for worker in workers { await worker.stop() }
            for loop in loops { await loop.shutdownGracefully() }
            throw error
        }
    }

    /// The graceful shutdown sequence; concurrent callers all wait for the one run.
    ///
    /// Stop accepting and let in-flight requests finish (their after-response work starts as
    /// their last bytes are written); drain app services such as the task supervisor; run the
    /// user's shutdown hooks; close every connection and loop.
    func shutdown() async {
        let first = state.withLock { state in
            defer { state.shutdownStarted = true }
            return !state.shutdownStarted
        }
        guard first else {
            await waitUntilStopped()
            return
        }
        let logger = app.logger
        let configuration = app.configuration
        logger.info("shutting down", metadata: ["grace-period": "\(configuration.shutdownGracePeriod)"])
        let requestDeadline = ContinuousClock.now + configuration.shutdownGracePeriod
        await withTaskGroup(of: Void.self) { group in
            for worker in workers {
                group.addTask { await worker.drain(until: requestDeadline) }
            }
        }
        logger.debug("connections drained")
        for service in app.services.all {
            await service.drain(logger: logger)
        }
        for hook in app.shutdownHooks { await hook() }
        for worker in workers { await worker.stop() }
        logger.debug("workers stopped")
        for (index, loop) in loops.enumerated() {
            await close(loop, index: index, logger: logger)
        }
        logger.info("stopped")
        // Lines a BufferedLogHandler still holds reach their stream before shutdown returns.
        LineWriter.flushAll()
        let waiters = state.withLock { state in
            state.stopped = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// How long a loop may take to close once its handles are closed. Only blocking work still
    /// running on libuv's pool (abandoned by the task drain at its deadline) delays it: libuv
    /// cannot close a loop under running work, and the work cannot be interrupted.
    private static let loopCloseAllowance: Duration = .seconds(2)

    /// Shuts `loop` down; if running pool work keeps it open past the allowance, says so and
    /// leaves the loop to close by itself when the work returns, so shutdown never hangs on it.
    private func close(_ loop: EventLoop, index: Int, logger: Logger) async {
        // The first of "closed" and "allowance over" decides; a waiter arriving later reads it.
        let outcome = Locked<(result: Bool?, waiter: CheckedContinuation<Bool, Never>?)>((nil, nil))
        let settle: @Sendable (Bool) -> Void = { closed in
            let waiter = outcome.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard state.result == nil else { return nil }
                state.result = closed
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: closed)
        }
        let closing = Task {
            await loop.shutdownGracefully()
            settle(true)
        }
        let timer = Task {
            try? await Task.sleep(for: Self.loopCloseAllowance)
            settle(false)
        }
        let closed = await withCheckedContinuation { continuation in
            let settled = outcome.withLock { state -> Bool? in
                if state.result == nil { state.waiter = continuation }
                return state.result
            }
            if let settled { continuation.resume(returning: settled) }
        }
        timer.cancel()
        if !closed {
            logger.warning(
                "event loop still busy with blocking work past the shutdown deadline; it closes when that work returns",
                metadata: [
                    "worker": "\(index)"
                ])
            _ = closing  // keeps closing in the background
        }
    }

    func waitUntilStopped() async {
        await withCheckedContinuation { continuation in
            let stopped = state.withLock { state in
                if !state.stopped { state.waiters.append(continuation) }
                return state.stopped
            }
            if stopped { continuation.resume() }
        }
    }

    /// Answers one request without a socket, on the first loop, for in-process tests. A streamed
    /// body is collected (up to `maxResponseBytes`; HEAD runs no producer); the response
    /// milestone is reported once the body is complete.
    func respond(to head: HTTPRequest, body: [UInt8], maxResponseBytes: Int) async -> Response {
        let worker = workers[0].worker
        let context = RequestContext(
            requestID: worker.nextRequestID(), logger: app.logger,
            services: app.services, host: worker.host, loop: worker.loop)
        let request = Request(
            head: head,
            body: RequestBody(
                storage: .bytes(body), limit: app.configuration.limits.maxBodySize,
                declaredLength: body.count),
            context: context)
        let responder = worker.responder
        return await Task(executorPreference: worker.loop.taskExecutor) {
            var response = await responder.respond(to: request)
            guard response.body.bytes == nil else {
                context.responseFinished(delivered: true)
                return response
            }
            if head.method == .head {
                // Its length still describes the body a GET would get; the producer never runs.
                context.responseFinished(delivered: true)
                return response
            }
            do {
                response.body = ResponseBody(bytes: try await response.body.collect(upTo: maxResponseBytes))
                context.responseFinished(delivered: true)
            } catch {
                context.logger.error(
                    "response body failed",
                    metadata: [
                        "route": "\(context.route ?? head.path ?? "-")", "error": "\(String(reflecting: error))",
                    ])
                context.responseFinished(delivered: false, bodyFailed: true)
                response = HTTPError(.internalServerError, detail: "response body failed").response
            }
            return response
        }.value
    }
}
