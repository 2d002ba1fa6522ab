import HTTPTypes
import Logging
import LoopworkHTTP
import LoopworkUV

/// One client connection: bytes in through the parser, requests out to handler tasks, responses
/// back in request order. Lives on its worker's loop and is only touched from its
/// ``WorkerServer``'s isolation (the same loop thread).
final class HTTPConnection {
    let id: Int
    private let tcp: TCPConnection
    private let worker: WorkerContext
    private unowned let server: WorkerServer
    private var parser: HTTPRequestParser
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var responses = ResponseQueue()
    /// No further requests are read: a `Connection: close` request, a parse error, EOF or shutdown.
    private var acceptingRequests = true
    private var readingPaused = false
    private var flushScheduled = false
    /// Inside ``received(_:)``: handlers that finish synchronously fill their slots, and one
    /// write after the parse loop sends every response of the read.
    private var receiving = false
    private var flushAfterReceiving = false
    private var peerClosedInput = false
    private(set) var isClosed = false
    private var lastActivity: ContinuousClock.Instant
    private var headStartedAt: ContinuousClock.Instant?

    /// More pipelined requests than this waiting for answers pauses reading, bounding memory.
    private static let maxQueuedRequests = 256

    init(id: Int, tcp: TCPConnection, worker: WorkerContext, server: WorkerServer) {
        self.id = id
        self.tcp = tcp
        self.worker = worker
        self.server = server
        self.parser = HTTPRequestParser(limits: worker.parserLimits)
        self.lastActivity = .now
    }

    func start() {
        tcp.setNoDelay(true)
        tcp.startReading(
            onBytes: { [weak self] bytes in self?.received(bytes) },
            onEnd: { [weak self] error in self?.inputEnded(error) })
    }

    // MARK: Reading

    private func received(_ bytes: UnsafeRawBufferPointer) {
        lastActivity = .now
        receiving = true
        defer {
            receiving = false
            if flushAfterReceiving {
                flushAfterReceiving = false
                flush()
            }
        }
        if parser.isIdle, headStartedAt == nil { headStartedAt = lastActivity }
        do {
            try worker.loop.startingTasksInline {
                try parser.parse(bytes) { event in handle(event) }
            }
        } catch let error as HTTPParseError {
            reject(status: error.status, reason: error.reason)
            return
        } catch {
            reject(status: .badRequest, reason: "malformed request")
            return
        }
        if parser.isIdle { headStartedAt = nil } else if parser.isInHead, headStartedAt == nil { headStartedAt = lastActivity }
        applyBackpressure()
    }

    private func handle(_ event: HTTPParserEvent) {
        guard acceptingRequests else { return }
        switch event {
        case .head(let parsed):
            head = parsed
            body.removeAll(keepingCapacity: true)
            headStartedAt = nil
            if parsed.expectsContinue, parsed.framing != .none, parsed.framing != .contentLength(0) {
                var interim: [UInt8] = []
                worker.serializer.writeInterim(.continue, into: &interim)
                _ = responses.append(.init(bytes: interim, context: nil, closeAfter: false, startedAt: lastActivity))
                flush()
            }
        case .body(let chunk):
            body.append(contentsOf: chunk)
        case .end:
            dispatch()
        }
    }

    private func inputEnded(_ error: UVError?) {
        peerClosedInput = true
        acceptingRequests = false
        if error != nil || responses.isEmpty {
            close()
        }
    }

    private func dispatch() {
        guard let parsed = head else { return }
        head = nil
        let keepAlive = parsed.keepAlive && !worker.isShuttingDown
        if !keepAlive { acceptingRequests = false }
        let requestID = parsed.request.headerFields[RequestIDMiddleware.field].flatMap { $0.isEmpty || $0.utf8.count > 128 ? nil : $0 }
            ?? worker.nextRequestID()
        let context = RequestContext(requestID: requestID, logger: worker.logger, services: worker.services, host: worker.host)
        let request = Request(head: parsed.request, body: body, context: context)
        body = []
        let sequence = responses.append(.init(bytes: nil, context: context, closeAfter: !keepAlive, startedAt: lastActivity))
        let responder = worker.responder
        let version = parsed.version
        let isHead = parsed.request.method == .head
        let loop = worker.loop
        Task(executorPreference: loop.taskExecutor) { [server, id] in
            let response = await responder.respond(to: request)
            if loop.inEventLoop {
                // The task prefers the loop, so it resumes on the loop's thread, inside a job of
                // the loop: the server actor (whose executor is that loop) cannot be running
                // anything else, and entering it directly saves a task switch per request.
                server.completeOnLoop(connection: id, sequence: sequence, response: response,
                                      version: version, keepAlive: keepAlive, isHead: isHead, context: context)
            } else {
                await server.complete(connection: id, sequence: sequence, response: response,
                                      version: version, keepAlive: keepAlive, isHead: isHead, context: context)
            }
        }
    }

    // MARK: Writing

    /// Serializes a finished handler's response into its slot and writes what is now in order.
    func complete(sequence: Int, response: Response, version: HTTPVersion, keepAlive: Bool, isHead: Bool, context: RequestContext) {
        guard !isClosed else {
            context.responseFinished(delivered: false)
            return
        }
        let keepAlive = keepAlive && !worker.isShuttingDown
        var bytes: [UInt8] = []
        bytes.reserveCapacity(response.body.count + 256)
        worker.serializer.writeResponse(response.head, body: response.body, version: version,
                                        keepAlive: keepAlive, isHeadRequest: isHead, into: &bytes)
        if responses.fill(sequence, bytes: bytes, closeAfter: !keepAlive) {
            if receiving {
                flushAfterReceiving = true
            } else {
                flushSoon()
            }
        }
    }

    /// Answers a request that broke the protocol, then closes: nothing after it can be trusted.
    private func reject(status: HTTPResponse.Status, reason: String) {
        acceptingRequests = false
        tcp.stopReading()
        var bytes: [UInt8] = []
        let response = HTTPError(status, detail: reason).response
        worker.serializer.writeResponse(response.head, body: response.body, version: .http1_1,
                                        keepAlive: false, isHeadRequest: false, into: &bytes)
        _ = responses.append(.init(bytes: bytes, context: nil, closeAfter: true, startedAt: .now))
        flush()
    }

    /// Writes now, unless later pipelined requests are still being answered: their handler tasks
    /// are already queued on the loop, so writing once after them sends one batch instead of a
    /// write per response. A lone request (the common case) is written at once.
    private func flushSoon() {
        guard responses.oldestPending != nil else {
            flush()
            return
        }
        guard !flushScheduled else { return }
        flushScheduled = true
        let accepted = worker.loop.execute { [server, id] in
            server.assumeIsolated { $0.connection(id)?.scheduledFlush() }
        }
        if !accepted {
            flushScheduled = false
            flush()
        }
    }

    fileprivate func scheduledFlush() {
        flushScheduled = false
        flush()
    }

    private func flush() {
        guard !isClosed else { return }
        if let only = responses.takeSingleReady() {
            // The common case, one response ready and nothing behind it: no batch to build.
            guard let bytes = only.bytes else { return }
            let closeAfter = only.closeAfter || (peerClosedInput && responses.isEmpty)
            lastActivity = .now
            let context = only.context
            tcp.write(bytes) { [weak self] error in
                context?.responseFinished(delivered: error == nil)
                self?.written(error: error, closeAfter: closeAfter)
            }
            return
        }
        let ready = responses.takeReady()
        guard !ready.isEmpty else { return }
        var batch: [UInt8] = []
        batch.reserveCapacity(ready.reduce(0) { $0 + ($1.bytes?.count ?? 0) })
        for slot in ready { batch.append(contentsOf: slot.bytes ?? []) }
        let contexts = ready.compactMap(\.context)
        let closeAfter = ready.contains { $0.closeAfter } || (peerClosedInput && responses.isEmpty)
        lastActivity = .now
        tcp.write(batch) { [weak self] error in
            // Runs synchronously inside `write` when the kernel took every byte, else from the
            // write callback: either way it marks the responses' last bytes as sent.
            for context in contexts { context.responseFinished(delivered: error == nil) }
            self?.written(error: error, closeAfter: closeAfter)
        }
    }

    private func written(error: UVError?, closeAfter: Bool) {
        if error != nil || closeAfter {
            close()
            return
        }
        applyBackpressure()
        if peerClosedInput, responses.isEmpty { close() }
    }

    private func applyBackpressure() {
        guard !isClosed, acceptingRequests else { return }
        let overloaded = tcp.pendingWriteBytes > worker.configuration.writeHighWaterMark
            || responses.count > Self.maxQueuedRequests
        if overloaded, !readingPaused {
            readingPaused = true
            tcp.stopReading()
        } else if !overloaded, readingPaused {
            readingPaused = false
            tcp.resumeReading()
        }
    }

    // MARK: Lifecycle

    /// Whether the connection is between requests with nothing owed to the client.
    var isIdle: Bool { responses.isEmpty && parser.isIdle }

    /// Shutdown: stop taking requests; close at once if idle, else after the owed responses.
    func beginShutdown() {
        acceptingRequests = false
        if isIdle { close() }
    }

    /// Enforces the header-read, idle and request timeouts; called by the worker's sweep timer.
    func checkTimeouts(now: ContinuousClock.Instant) {
        guard !isClosed else { return }
        let configuration = worker.configuration
        if let (sequence, slot) = responses.oldestPending {
            if let limit = configuration.requestTimeout, now - slot.startedAt > limit {
                var bytes: [UInt8] = []
                let response = HTTPError(.serviceUnavailable, detail: "request timed out").response
                worker.serializer.writeResponse(response.head, body: response.body, version: .http1_1,
                                                keepAlive: false, isHeadRequest: false, into: &bytes)
                worker.logger.warning("request timed out", metadata: ["connection": "\(id)", "request-id": "\(slot.context?.requestID ?? "-")"])
                acceptingRequests = false
                // The handler still runs; its late answer finds the slot filled. The request's
                // milestones complete once, when this 503 is written.
                if responses.fill(sequence, bytes: bytes, closeAfter: true) {
                    flush()
                }
            }
            return
        }
        if let started = headStartedAt, !parser.isIdle, now - started > configuration.headerReadTimeout {
            reject(status: .requestTimeout, reason: "request head not received in time")
            return
        }
        if now - lastActivity > configuration.idleTimeout {
            close()
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        acceptingRequests = false
        for slot in responses.removeAll() where slot.bytes != nil {
            slot.context?.responseFinished(delivered: false)
        }
        tcp.close { [server, id] in
            server.assumeIsolated { $0.connectionClosed(id) }
        }
    }
}
