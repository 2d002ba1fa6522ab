import HTTPTypes
import Logging
import LoopworkHTTP
import LoopworkUV

/// One client connection: bytes in through the parser, requests out to handler tasks (each runs
/// once its head is parsed, its body streaming in behind it), responses back in request order,
/// streamed bodies at the client's pace.
///
/// This is the protocol logic; the socket is behind ``ConnectionTransport`` and time behind
/// `clock`, so tests drive it without either. Loop-bound: everything runs on the worker's loop
/// thread, and handler tasks come back to it through a ``LoopBound`` reference.
final class HTTPConnection {
    let id: Int
    let transport: any ConnectionTransport
    let worker: WorkerContext
    let clock: () -> ContinuousClock.Instant
    private let onClosed: (Int) -> Void
    private var parser: HTTPRequestParser
    var responses = ResponseQueue()
    /// A request whose head is parsed and whose handler starts at the end of this read (or at
    /// its end of message, if that comes first), so a body that arrived with its head is whole
    /// when the handler first reads it.
    private var pendingDispatch: PendingRequest?
    /// The body the parser is delivering, and its request's response slot.
    private(set) var parsingBody: (body: InboundBody, sequence: Int)?
    /// The streamed response on the wire; the responses behind it wait.
    var activeStream: (body: OutboundBody, slot: ResponseQueue.Slot)?
    /// No further requests are read: a `Connection: close` request, a parse error, EOF or shutdown.
    var acceptingRequests = true
    /// Close once every owed response is written and taken by the client: the peer's EOF, an
    /// unread body too long to drain, or shutdown.
    var closeWhenDone = false
    /// A body that ends the connection has ended: nothing more is written, and the connection
    /// closes once the client took what was.
    var closingAfterWrites = false
    private(set) var readingPaused = false
    var flushScheduled = false
    /// The request context and `closeAfter` of each ``writeWhole(_:)`` in flight, oldest first.
    var wholeWrites: [(context: RequestContext?, closeAfter: Bool)] = []
    /// Inside ``received(_:)``: handlers that finish synchronously fill their slots, and one
    /// write after the parse loop sends every response of the read.
    var receiving = false
    var flushAfterReceiving = false
    private(set) var isClosed = false
    /// The handler task waiting for this connection's next request (see ``run(_:)``).
    var parkedHandlerTask: UnsafeContinuation<Dispatch?, Never>?
    var lastActivity: ContinuousClock.Instant
    private var lastRead: ContinuousClock.Instant
    private var headStartedAt: ContinuousClock.Instant?

    /// More pipelined requests than this waiting for answers pauses reading, bounding memory.
    static let maxQueuedRequests = 256
    /// A response buffer up to this capacity is kept for the connection's next response: every
    /// keep-alive request would otherwise allocate one.
    static let maxSpareResponseBuffer = 4096
    var spareResponseBuffer: [UInt8] = []

    /// What a handler's task carries back to its connection with the response.
    struct Exchange: Sendable {
        let sequence: Int
        let version: HTTPVersion
        let keepAlive: Bool
        let isHead: Bool
        let context: RequestContext
        let body: InboundBody?
    }

    private struct PendingRequest {
        let head: HTTPRequestHead
        let context: RequestContext
        let sequence: Int
        let keepAlive: Bool
        /// Body bytes that arrived before the handler started. A body that is whole by then (the
        /// common small POST) reaches the handler as these bytes, with no stream to set up.
        var bodyBytes: [UInt8] = []
    }

    init(
        id: Int, transport: any ConnectionTransport, worker: WorkerContext,
        clock: @escaping () -> ContinuousClock.Instant = { .now }, onClosed: @escaping (Int) -> Void
    ) {
        self.id = id
        self.transport = transport
        self.worker = worker
        self.clock = clock
        self.onClosed = onClosed
        self.parser = HTTPRequestParser(limits: worker.parserLimits)
        self.lastActivity = clock()
        self.lastRead = lastActivity
    }

    func start() {
        transport.setNoDelay(true)
        transport.startReading(
            onBytes: { [weak self] bytes in self?.received(bytes) },
            onEnd: { [weak self] error in self?.inputEnded(error) })
    }

    // MARK: Reading

    func received(_ bytes: UnsafeRawBufferPointer) {
        lastActivity = clock()
        lastRead = lastActivity
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
                dispatchPending()
            }
        } catch let error as HTTPParseError {
            reject(status: error.status, reason: error.reason)
            return
        } catch {
            reject(status: .badRequest, reason: "malformed request")
            return
        }
        if parser.isIdle {
            headStartedAt = nil
        } else if parser.isInHead, headStartedAt == nil {
            headStartedAt = lastActivity
        }
        applyBackpressure()
    }

    private func handle(_ event: HTTPParserEvent) {
        switch event {
        case .head(let parsed):
            guard acceptingRequests else { return }
            headStartedAt = nil
            begin(parsed)
        case .body(let slice):
            if let (body, _) = parsingBody {
                if body.append(slice) > worker.configuration.unreadBodyDrainLimit {
                    refuseRestOfInput()
                }
            } else {
                pendingDispatch?.bodyBytes.append(contentsOf: slice)
            }
        case .end(_, let discarded):
            if !discarded.isEmpty {
                // Fields RFC 9110 §6.5.1 keeps out of trailers: dropped, but a client sending them is worth seeing.
                worker.logger.debug(
                    "discarded trailer fields",
                    metadata: [
                        "connection": "\(id)", "fields": "\(discarded.map(\.canonicalName).joined(separator: ", "))",
                    ])
            }
            if let (body, _) = parsingBody {
                body.finish()
                parsingBody = nil
            }
            dispatchPending(bodyComplete: true)
            // The request that closes the connection has ended: RFC 9112 §9.6, nothing after
            // it is processed. The rest of this read is parsed only to be ignored.
            if !acceptingRequests { ignoreRestOfInput() }
        }
    }

    private func begin(_ parsed: HTTPRequestHead) {
        let keepAlive = parsed.keepAlive && !worker.isShuttingDown
        if !keepAlive { acceptingRequests = false }
        let requestID =
            parsed.request.headerFields[RequestIDMiddleware.field].flatMap {
                $0.isEmpty || $0.utf8.count > 128 ? nil : $0
            }
            ?? worker.nextRequestID()
        let context = RequestContext(
            requestID: requestID, logger: worker.logger, services: worker.services,
            host: worker.host, loop: worker.loop)
        let sequence = responses.append(
            .init(bytes: nil, context: context, closeAfter: !keepAlive, startedAt: lastActivity))
        pendingDispatch = PendingRequest(head: parsed, context: context, sequence: sequence, keepAlive: keepAlive)
    }

    /// Starts the pending request's handler; with `bodyComplete` false its body is still
    /// arriving and becomes a stream the parser feeds from here on.
    private func dispatchPending(bodyComplete: Bool = false) {
        guard let pending = pendingDispatch else { return }
        pendingDispatch = nil
        let parsed = pending.head
        let limit = worker.configuration.limits.maxBodySize
        var inbound: InboundBody?
        let body: RequestBody
        if bodyComplete {
            let declared = parsed.framing == .none ? 0 : parsed.framing.declaredLength
            body = RequestBody(storage: .bytes(pending.bodyBytes), limit: limit, declaredLength: declared)
        } else {
            let stream = InboundBody(
                declaredLength: parsed.framing.declaredLength, expectsContinue: parsed.expectsContinue,
                loop: worker.loop, delegate: self)
            if !pending.bodyBytes.isEmpty { _ = pending.bodyBytes.withUnsafeBytes { stream.append($0) } }
            parsingBody = (stream, pending.sequence)
            responses.setRequestBody(stream, for: pending.sequence)
            inbound = stream
            body = RequestBody(storage: .stream(stream), limit: limit, declaredLength: stream.declaredLength)
        }
        let request = Request(head: parsed.request, body: body, context: pending.context)
        let exchange = Exchange(
            sequence: pending.sequence, version: parsed.version, keepAlive: pending.keepAlive,
            isHead: parsed.request.method == .head, context: pending.context, body: inbound)
        run(Dispatch(request: request, exchange: exchange))
    }

    private func inputEnded(_ error: UVError?) {
        acceptingRequests = false
        closeWhenDone = true
        if let (body, _) = parsingBody {
            body.fail(.clientDisconnected)
            parsingBody = nil
        }
        if error != nil {
            close()
        } else {
            closeIfDone()
        }
    }

    /// Answers a request that broke the protocol, then closes: nothing after it can be trusted.
    private func reject(status: HTTPResponse.Status, reason: String) {
        // The request whose head or body broke answers with the error itself; its handler, if
        // it runs, finds the slot filled.
        let broken = pendingDispatch?.sequence ?? parsingBody?.sequence
        guard broken != nil || acceptingRequests else {
            // Bytes after the request that closes the connection: never answered (RFC 9112 §9.6).
            ignoreRestOfInput()
            return
        }
        acceptingRequests = false
        transport.stopReading()
        let bytes = closingErrorResponse(status, detail: reason)
        pendingDispatch = nil
        parsingBody?.body.fail(.aborted)
        parsingBody = nil
        if broken.map({ responses.fill($0, bytes: bytes, closeAfter: true) }) != true {
            _ = responses.append(.init(bytes: bytes, context: nil, closeAfter: true, startedAt: clock()))
        }
        flush()
    }

    /// No request after the current ones is taken: read no more (a client's EOF or reset is
    /// then seen as a failed write, if at all), and time no head.
    private func ignoreRestOfInput() {
        transport.stopReading()
        readingPaused = false
        headStartedAt = nil
    }

    /// An unread body is longer than the drain limit: read no more, close once answers are out.
    private func refuseRestOfInput() {
        acceptingRequests = false
        closeWhenDone = true
        transport.stopReading()
        parsingBody = nil
        closeIfDone()
    }

    func applyBackpressure() {
        guard !isClosed, acceptingRequests || parsingBody != nil else { return }
        let configuration = worker.configuration
        var pause =
            acceptingRequests
            && (transport.pendingWriteBytes > configuration.writeHighWaterMark
                || responses.count > Self.maxQueuedRequests)
        if let (body, _) = parsingBody {
            // Hysteresis: once paused for the body, read again only when a quarter is left.
            let buffered = body.bufferedBytes
            let mark =
                readingPaused ? configuration.requestBodyHighWaterMark / 4 : configuration.requestBodyHighWaterMark
            if buffered > mark { pause = true }
        }
        if pause, !readingPaused {
            readingPaused = true
            transport.stopReading()
        } else if !pause, readingPaused {
            readingPaused = false
            transport.resumeReading()
        }
    }

    // MARK: Lifecycle

    /// Whether a response is still to be written (queued, or a body streaming).
    var owesResponses: Bool { !responses.isEmpty || activeStream != nil }

    /// Writes nothing more and closes once the client took every byte written: closing at once
    /// would fail the writes still pending and cut the last answer short.
    func closeAfterWrites() {
        acceptingRequests = false
        closingAfterWrites = true
        if transport.pendingWriteBytes == 0 { close() }
    }

    /// With ``closeWhenDone``, closes once nothing is owed and the client has taken every byte
    /// written: closing fails the writes still pending, which would cut the last answer short.
    func closeIfDone() {
        if closeWhenDone, !owesResponses, transport.pendingWriteBytes == 0 { close() }
    }

    /// Shutdown (the worker's `isShuttingDown` is set): no request is lost that reaches the
    /// connection while it is open. Owing responses, it takes no further request and closes once
    /// they are written, the last with `Connection: close` unless already serialized; a request
    /// half received is taken and answered with `Connection: close`; an idle connection still
    /// answers a request that arrives before ``closeIfIdle()`` (the drain window's end).
    func beginShutdown() {
        guard !isClosed, owesResponses else { return }
        acceptingRequests = false
        closeWhenDone = true
        if parsingBody == nil { ignoreRestOfInput() }
        closeIfDone()
    }

    /// Ends the drain window: closes the connection if it owes nothing and no request is arriving.
    /// A client that sends a request at this very moment sees the connection close unanswered,
    /// the race every HTTP/1.1 server has with idle connections; clients retry such a request.
    func closeIfIdle() {
        guard !isClosed, !owesResponses, parsingBody == nil, pendingDispatch == nil, parser.isIdle else { return }
        acceptingRequests = false
        closeWhenDone = true
        ignoreRestOfInput()
        // An answer the client has not taken yet is still let through.
        closeIfDone()
    }

    /// Enforces the header-read, body-read, idle and request timeouts; called by the worker's
    /// sweep timer.
    func checkTimeouts(now: ContinuousClock.Instant) {
        guard !isClosed else { return }
        let configuration = worker.configuration
        if let (sequence, slot) = responses.oldestPending {
            if let limit = configuration.requestTimeout, now - slot.startedAt > limit {
                timeOut(sequence, requestID: slot.context?.requestID)
            } else if parsingBody != nil, !readingPaused, now - lastRead > configuration.idleTimeout {
                // A handler waits for body bytes the client stopped sending.
                worker.logger.info(
                    "request body stalled; closing the connection",
                    metadata: [
                        "connection": "\(id)", "request-id": "\(slot.context?.requestID ?? "-")",
                    ])
                close()
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

    /// An error answer that ends the connection (`Connection: close`), serialized.
    private func closingErrorResponse(_ status: HTTPResponse.Status, detail: String) -> [UInt8] {
        var bytes: [UInt8] = []
        let response = HTTPError(status, detail: detail).response
        worker.serializer.writeResponse(
            status: response.status, headerFields: response.headerFields,
            body: response.body.bytes ?? [], version: .http1_1, keepAlive: false,
            isHeadRequest: false, into: &bytes)
        return bytes
    }

    private func timeOut(_ sequence: Int, requestID: String?) {
        let bytes = closingErrorResponse(.serviceUnavailable, detail: "request timed out")
        worker.logger.warning(
            "request timed out", metadata: ["connection": "\(id)", "request-id": "\(requestID ?? "-")"])
        acceptingRequests = false
        // The handler still runs; its late answer finds the slot filled. The request's
        // milestones complete once, when this 503 is written.
        if responses.fill(sequence, bytes: bytes, closeAfter: true) {
            flush()
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        acceptingRequests = false
        pendingDispatch = nil
        releaseParkedHandlerTask()
        parsingBody?.body.fail(.clientDisconnected)
        parsingBody = nil
        for slot in responses.removeAll() where slot.bytes != nil {
            if let stream = slot.stream {
                stream.connectionClosed()
            } else {
                slot.context?.responseFinished(delivered: false)
            }
        }
        if let (stream, _) = activeStream {
            activeStream = nil
            stream.connectionClosed()
        }
        transport.close { [onClosed, id] in onClosed(id) }
    }
}
