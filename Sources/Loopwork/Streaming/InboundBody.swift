import HTTPTypes
import LoopworkUV

/// What an inbound body tells its connection, on the connection's loop.
protocol InboundBodyDelegate: AnyObject {
    /// A reader waits for bytes the client holds back until it hears `100 Continue`.
    func bodyWantsContinue(_ body: InboundBody)
    /// A reader took bytes: the connection may read again if it paused for this body.
    func bodyWasRead(_ body: InboundBody)
}

/// One request body while it arrives: the connection appends the parser's chunks on its loop, a
/// handler (on any thread) reads them. The hand-over is a lock and at most one waiting reader.
final class InboundBody: Sendable {
    /// The `Content-Length` the client declared; `nil` for a chunked body.
    let declaredLength: Int?
    /// Whether the client waits for `100 Continue` before it sends the body.
    let expectsContinue: Bool
    private let loop: EventLoop
    private let delegate: LoopBound<WeakDelegate>
    private let state = Locked(State())

    private final class WeakDelegate {
        weak var value: (any InboundBodyDelegate)?
        init(_ value: any InboundBodyDelegate) { self.value = value }
    }

    private enum End {
        case complete
        case failed(RequestBodyError)
    }

    private struct State {
        var chunks: [[UInt8]] = []
        var firstChunk = 0
        var bufferedBytes = 0
        var receivedBytes = 0
        var deliveredBytes = 0
        var end: End?
        var reader: CheckedContinuation<[UInt8]?, any Error>?
        var readerLimit = Int.max
        var readStarted = false
        var continueRequested = false
        var collected: [UInt8]?
        var discarding = false
        var discardedBytes = 0
        var refused = false
    }

    private enum Poll {
        case chunk([UInt8])
        case end
        case failure(any Error)
        case wait
    }

    init(declaredLength: Int?, expectsContinue: Bool, loop: EventLoop, delegate: any InboundBodyDelegate) {
        self.declaredLength = declaredLength
        self.expectsContinue = expectsContinue
        self.loop = loop
        self.delegate = LoopBound(WeakDelegate(delegate), on: loop)
    }

    /// The most `collect` reserves for a declared length before the bytes arrive.
    static let maxReservation = 64 * 1024

    static func tooLarge(_ limit: Int) -> HTTPError {
        HTTPError(.contentTooLarge, detail: "request body is larger than the limit of \(limit) bytes")
    }

    // MARK: Reader side (any thread)

    func next(limit: Int) async throws -> [UInt8]? {
        switch state.withLock({ Self.poll(&$0, limit: limit, declaredLength: declaredLength) }) {
        case .chunk(let chunk):
            notifyDelegate(.wasRead)
            return chunk
        case .end:
            return nil
        case .failure(let error):
            throw error
        case .wait:
            break
        }
        return try await withCheckedThrowingContinuation { continuation in
            let (ready, wantsContinue) = state.withLock { state -> (Poll?, Bool) in
                // Bytes may have arrived since the first look.
                let poll = Self.poll(&state, limit: limit, declaredLength: declaredLength)
                guard case .wait = poll else { return (poll, false) }
                state.reader = continuation
                state.readerLimit = limit
                defer { state.continueRequested = true }
                return (nil, expectsContinue && !state.continueRequested)
            }
            switch ready {
            case .chunk(let chunk)?: continuation.resume(returning: chunk)
            case .end?: continuation.resume(returning: nil)
            case .failure(let error)?: continuation.resume(throwing: error)
            case .wait?, nil:
                // An empty buffer is below the low-water mark: a connection paused for this body
                // reads again.
                notifyDelegate(wantsContinue ? .wantsContinue : .wasRead)
            }
        }
    }

    /// The bytes a whole-body extractor collected earlier, so a later reader sees them too.
    var collectedBytes: [UInt8]? { state.withLock { $0.collected } }

    func collect(limit: Int) async throws -> [UInt8] {
        let earlier = try state.withLock { state -> [UInt8]? in
            if let collected = state.collected { return collected }
            guard !state.readStarted else { throw RequestBodyError.alreadyConsumed }
            return nil
        }
        if let earlier {
            guard earlier.count <= limit else { throw Self.tooLarge(limit) }
            return earlier
        }
        var bytes: [UInt8] = []
        // The declared length is only the client's word: reserve at most a little of it up front,
        // and let what actually arrives grow the array.
        if let declaredLength, declaredLength <= limit {
            bytes.reserveCapacity(min(declaredLength, Self.maxReservation))
        }
        while let chunk = try await next(limit: limit) {
            bytes.append(contentsOf: chunk)
        }
        state.withLock { $0.collected = bytes }
        return bytes
    }

    private static func poll(_ state: inout State, limit: Int, declaredLength: Int?) -> Poll {
        if !state.readStarted {
            state.readStarted = true
            if let declaredLength, declaredLength > limit {
                refuse(&state)
                return .failure(tooLarge(limit))
            }
        }
        if state.firstChunk < state.chunks.count {
            let chunk = state.chunks[state.firstChunk]
            state.chunks[state.firstChunk] = []
            state.firstChunk += 1
            if state.firstChunk == state.chunks.count {
                state.chunks.removeAll(keepingCapacity: true)
                state.firstChunk = 0
            }
            state.bufferedBytes -= chunk.count
            return deliver(chunk, in: &state, limit: limit)
        }
        switch state.end {
        case .complete?: return .end
        case .failed(let error)?: return .failure(error)
        case nil: return state.discarding ? .failure(RequestBodyError.discarded) : .wait
        }
    }

    private static func deliver(_ chunk: [UInt8], in state: inout State, limit: Int) -> Poll {
        guard state.deliveredBytes + chunk.count <= limit else {
            refuse(&state)
            return .failure(tooLarge(limit))
        }
        state.deliveredBytes += chunk.count
        return .chunk(chunk)
    }

    /// A read passed the limit (413): what is buffered is dropped, what still arrives is counted
    /// and dropped, whether the declared length or a chunk was too large.
    private static func refuse(_ state: inout State) {
        state.discarding = true
        state.refused = true
        state.chunks.removeAll()
        state.firstChunk = 0
        state.bufferedBytes = 0
    }

    private enum Notice { case wantsContinue, wasRead }

    private func notifyDelegate(_ notice: Notice) {
        guard loop.inEventLoop else {
            _ = loop.execute { self.notifyDelegate(notice) }
            return
        }
        delegate.withValue { box in
            guard let delegate = box.value else { return }
            switch notice {
            case .wantsContinue: delegate.bodyWantsContinue(self)
            case .wasRead: delegate.bodyWasRead(self)
            }
        }
    }

    // MARK: Connection side (its loop)

    /// Bytes received and not yet read, for the connection's read backpressure.
    var bufferedBytes: Int { state.withLock { $0.bufferedBytes } }

    /// Whether the body arrived whole (or failed): nothing more will be appended.
    var isEnded: Bool { state.withLock { $0.end != nil } }

    /// Whether a read refused the body for passing its limit (413): a client that sent too much
    /// is not served further on this connection.
    var wasRefused: Bool { state.withLock { $0.refused } }

    /// Whether the client still waits for `100 Continue` that nobody asked for.
    var isAwaitingContinue: Bool { state.withLock { expectsContinue && !$0.continueRequested } }

    /// Declared bytes that have not arrived yet; `nil` for a chunked body.
    var remainingDeclaredBytes: Int? {
        guard let declaredLength else { return nil }
        return state.withLock { declaredLength - $0.receivedBytes }
    }

    /// Hands a parsed slice to the reader, or buffers it. Returns the bytes discarded so far when
    /// the body is being drained, else 0.
    func append(_ slice: UnsafeRawBufferPointer) -> Int {
        let chunk = [UInt8](slice)
        let (reader, result) = state.withLock { state -> (CheckedContinuation<[UInt8]?, any Error>?, Poll?) in
            state.receivedBytes += chunk.count
            if state.discarding {
                state.discardedBytes += chunk.count
                return (nil, nil)
            }
            guard let reader = state.reader else {
                state.chunks.append(chunk)
                state.bufferedBytes += chunk.count
                return (nil, nil)
            }
            state.reader = nil
            return (reader, Self.deliver(chunk, in: &state, limit: state.readerLimit))
        }
        resume(reader, with: result)
        return state.withLock { $0.discarding ? $0.discardedBytes : 0 }
    }

    /// The body arrived whole.
    func finish() {
        end(.complete)
    }

    /// The body will never arrive whole.
    func fail(_ error: RequestBodyError) {
        end(.failed(error))
    }

    /// The response went out before the body was read: what is buffered is dropped, what still
    /// arrives is counted and dropped (the connection closes past its drain limit).
    func discardRest() {
        let reader = state.withLock { state -> CheckedContinuation<[UInt8]?, any Error>? in
            state.discarding = true
            state.chunks.removeAll()
            state.firstChunk = 0
            state.bufferedBytes = 0
            defer { state.reader = nil }
            return state.reader
        }
        reader?.resume(throwing: RequestBodyError.discarded)
    }

    private func end(_ end: End) {
        let (reader, result) = state.withLock { state -> (CheckedContinuation<[UInt8]?, any Error>?, Poll?) in
            guard state.end == nil else { return (nil, nil) }
            state.end = end
            guard let reader = state.reader else { return (nil, nil) }
            state.reader = nil
            switch end {
            case .complete: return (reader, .end)
            case .failed(let error): return (reader, .failure(error))
            }
        }
        resume(reader, with: result)
    }

    private func resume(_ reader: CheckedContinuation<[UInt8]?, any Error>?, with result: Poll?) {
        guard let reader, let result else { return }
        switch result {
        case .chunk(let chunk): reader.resume(returning: chunk)
        case .end: reader.resume(returning: nil)
        case .failure(let error): reader.resume(throwing: error)
        case .wait: reader.resume(returning: nil)
        }
    }
}
