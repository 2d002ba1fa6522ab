import Logging
import LoopworkHTTP
import LoopworkUV

/// One worker: a listener on the shared port and the connections it accepted, all on one loop.
///
/// An actor whose executor is the loop, so its state is touched only on the loop thread, and
/// libuv callbacks (already on that thread) enter it with `assumeIsolated`.
actor WorkerServer {
    nonisolated let worker: WorkerContext
    private var listener: TCPListener?
    private var listenAddress: (host: String, port: Int)?
    private var acceptErrors = AcceptErrorPolicy()
    private var relistenTimer: LoopTimer?
    private var sweepTimer: LoopTimer?
    private var connections: [Int: HTTPConnection] = [:]
    private var nextConnectionID = 0
    private var atConnectionLimit = false
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        worker.loop.executor.asUnownedSerialExecutor()
    }

    init(worker: WorkerContext) {
        self.worker = worker
    }

    /// Binds the listener (with `SO_REUSEPORT`, so every worker shares the port) and starts the
    /// timeout sweep. Returns the bound port.
    func start(host: String, port: Int) throws -> Int {
        let listener = try makeListener(host: host, port: port)
        self.listener = listener
        listenAddress = (host, listener.localPort)
        sweepTimer = try worker.loop.scheduleTimer(after: .milliseconds(250), repeating: .milliseconds(250)) {
            [weak self] in
            self?.assumeIsolated { $0.sweep() }
        }
        return listener.localPort
    }

    private func makeListener(host: String, port: Int) throws -> TCPListener {
        let listener = try TCPListener.listen(
            on: worker.loop, host: host, port: port, backlog: worker.configuration.backlog, reusePort: true
        ) { [weak self] tcp in
            guard let self else {
                tcp.close()
                return
            }
            let handOver = LoopBound(tcp, on: self.worker.loop)
            self.assumeIsolated { server in handOver.withValue { server.accept($0) } }
        }
        listener.onAcceptError = { [weak self] error in
            self?.assumeIsolated { $0.acceptFailed(error) }
        }
        return listener
    }

    private func acceptFailed(_ error: UVError) {
        guard let listener, !worker.isShuttingDown else { return }
        switch acceptErrors.acceptFailed() {
        case .report(let first):
            if first {
                worker.logger.warning(
                    "accepting a connection failed",
                    metadata: [
                        "worker": "\(worker.index)", "error": "\(error)",
                    ])
            }
        case .pause(let pause):
            // A lasting error: libuv would report it in a tight loop until the socket closes.
            worker.logger.error(
                "accepting connections keeps failing; the listener pauses",
                metadata: [
                    "worker": "\(worker.index)", "error": "\(error)", "retry-in": "\(pause)",
                ])
            listener.close()
            self.listener = nil
            scheduleRelisten(after: pause)
        }
    }

    private func scheduleRelisten(after pause: Duration) {
        relistenTimer = try? worker.loop.scheduleTimer(after: pause) { [weak self] in
            self?.assumeIsolated { $0.relisten() }
        }
    }

    private func relisten() {
        relistenTimer = nil
        guard listener == nil, !worker.isShuttingDown, let (host, port) = listenAddress else { return }
        do {
            listener = try makeListener(host: host, port: port)
            worker.logger.info(
                "listening again", metadata: ["worker": "\(worker.index)", "address": "\(host):\(port)"])
        } catch {
            let pause = acceptErrors.relistenFailed()
            worker.logger.error(
                "listening again failed",
                metadata: [
                    "worker": "\(worker.index)", "error": "\(error)", "retry-in": "\(pause)",
                ])
            scheduleRelisten(after: pause)
        }
    }

    private func accept(_ tcp: TCPConnection) {
        guard !worker.isShuttingDown else {
            tcp.close()
            return
        }
        guard connections.count < worker.configuration.maxConnectionsPerWorker else {
            if !atConnectionLimit {
                atConnectionLimit = true
                worker.logger.warning(
                    "connection limit reached; closing new connections until some end",
                    metadata: [
                        "worker": "\(worker.index)", "limit": "\(worker.configuration.maxConnectionsPerWorker)",
                    ])
            }
            tcp.close()
            return
        }
        acceptErrors.accepted()
        nextConnectionID += 1
        let connection = HTTPConnection(id: nextConnectionID, transport: tcp, worker: worker) { [unowned self] id in
            // Transport close callbacks run on the loop, this actor's executor.
            self.assumeIsolated { $0.connectionClosed(id) }
        }
        connections[nextConnectionID] = connection
        connection.start()
    }

    /// The listening socket's descriptor, for tests that break it on purpose.
    var listenerDescriptor: Int32? { listener?.socketDescriptor }

    func connectionClosed(_ id: Int) {
        connections[id] = nil
        worker.logger.trace(
            "connection closed",
            metadata: ["worker": "\(worker.index)", "connection": "\(id)", "open": "\(connections.count)"])
        if atConnectionLimit, connections.count < worker.configuration.maxConnectionsPerWorker {
            atConnectionLimit = false
            worker.logger.info("accepting connections again", metadata: ["worker": "\(worker.index)"])
        }
        if worker.isShuttingDown, connections.isEmpty { resumeDrainWaiters() }
    }

    private func sweep() {
        let now = ContinuousClock.now
        for connection in connections.values { connection.checkTimeouts(now: now) }
    }

    /// Stops accepting and lets every connection finish what it owes, answering the requests
    /// that reach open connections meanwhile; idle connections close at the end of the drain
    /// window. Returns when all closed or `deadline` passed, then closes the rest.
    func drain(until deadline: ContinuousClock.Instant) async {
        worker.isShuttingDown = true
        relistenTimer?.cancel()
        relistenTimer = nil
        listener?.close()
        listener = nil
        for connection in Array(connections.values) { connection.beginShutdown() }
        worker.logger.debug(
            "draining connections", metadata: ["worker": "\(worker.index)", "open": "\(connections.count)"])
        if !connections.isEmpty {
            let remaining = max(deadline - .now, .zero)
            let window = try? worker.loop.scheduleTimer(after: min(worker.configuration.shutdownDrainWindow, remaining))
            {
                [weak self] in
                self?.assumeIsolated { server in
                    for connection in Array(server.connections.values) { connection.closeIfIdle() }
                }
            }
            let timer = try? worker.loop.scheduleTimer(after: remaining) { [weak self] in
                self?.assumeIsolated { $0.resumeDrainWaiters() }
            }
            // Connections may finish closing between here and the continuation's body: check
            // again there, or a close that came first would leave this waiting for the deadline.
            await withCheckedContinuation { continuation in
                if connections.isEmpty {
                    continuation.resume()
                } else {
                    drainWaiters.append(continuation)
                }
            }
            timer?.cancel()
            window?.cancel()
        }
        if !connections.isEmpty {
            worker.logger.warning(
                "closing connections still busy at the shutdown deadline",
                metadata: [
                    "worker": "\(worker.index)", "connections": "\(connections.count)",
                ])
            for connection in Array(connections.values) { connection.close() }
        }
    }

    /// Final step before the loop closes: nothing may stay open.
    func stop() {
        sweepTimer?.cancel()
        sweepTimer = nil
        relistenTimer?.cancel()
        relistenTimer = nil
        listener?.close()
        listener = nil
        for connection in Array(connections.values) { connection.close() }
    }

    private func resumeDrainWaiters() {
        let waiters = drainWaiters
        drainWaiters = []
        for waiter in waiters { waiter.resume() }
    }
}
