// libFuzzer entry for request bodies streaming through HTTPConnection and InboundBody; built by
// scripts/fuzz-streams.sh, not by the root package.
//
// One input is one client connection. Its first two bytes choose the server's limits and marks,
// the next bytes are a "tape" of decisions, the rest is what the client sends. An HTTPConnection
// serves it over a fake transport, on a real EventLoop run on the fuzzer's own thread (`.caller`),
// so an input runs the same way every time. Every loop round the driver does one thing the tape
// picks: deliver a read of a chosen size (only while the connection reads), let readers take a
// step, complete held writes, hold writes back, or, rarely, end the input early, reset it, fire
// the timeouts, or begin shutdown. One middleware answers every request; per request the tape
// picks how it reads the body (iterate, collect, collect with a limit, read a few chunks, ignore
// it, read it from a streamed response's producer, from a task off the loop, then read it again)
// under which limit, and how many driver steps it waits before each chunk.
//
// What is checked, besides "no crash, hang or leak" (ASan):
// - a second parser sees every byte the connection is given; request k's handler gets request k's
//   head, declared length and 100-continue flag;
// - the chunks a reader receives are, in order, the body bytes that parser produced for that
//   request: nothing lost, duplicated or reordered, never more than the reader's limit;
// - the body ends (`nil`) only once the parser saw its end, with every byte delivered; a body past
//   its limit throws HTTPError 413, and only then; a body cut short fails with clientDisconnected
//   (or aborted after a parse error), never with `discarded`;
// - a collected body is kept: a second collect returns it, a later iterator yields it; collecting
//   after iterating throws alreadyConsumed;
// - bufferedBytes is never negative, is 0 once a reader read to the end or was refused 413, and the
//   connection's count of declared bytes still to come matches the parser;
// - no more `100 Continue` answers than readers of bodies that expected one;
// - once the input ended (EOF or reset), every handler and producer finishes and the connection
//   closes (a waiting reader is woken); afterwards connection and bodies are freed (no cycle).
import HTTPTypes
import Logging
import LoopworkHTTP
import LoopworkUV
import Synchronization

@testable import Loopwork

#if canImport(Glibc)
    import Glibc
#endif

// MARK: Decisions

/// The decision bytes of an input, read in a cycle that changes on every pass.
private struct Tape {
    let bytes: [UInt8]
    var index = 0

    mutating func next() -> UInt8 {
        let pass = index / bytes.count
        let value = bytes[index % bytes.count] &+ UInt8(truncatingIfNeeded: pass &* 41)
        index += 1
        return value
    }
}

/// How one handler reads its body.
private struct ReadPlan {
    enum Mode { case iterate, collect, collectUpTo, ignore, readSome, readSomeThenThrow, producer }
    enum Again { case none, collect, iterate }

    var mode: Mode
    var again: Again
    var offLoop: Bool
    var limitChoice: UInt8
    var stopAfter: Int

    init(_ a: UInt8, _ b: UInt8, _ c: UInt8, offLoopAllowed: Bool) {
        let modes: [Mode] = [
            .iterate, .iterate, .collect, .collectUpTo, .ignore, .readSome, .readSomeThenThrow, .producer,
        ]
        mode = modes[Int(a % 8)]
        again = [.none, .none, .collect, .iterate][Int(a >> 3 & 3)]
        offLoop = offLoopAllowed && a & 0x80 != 0
        limitChoice = b
        stopAfter = Int(c % 8)
    }

    /// The limit the reader reads under; `nil` for the route's default (`RequestBody.limit`).
    func limit(declared: Int?) -> Int? {
        switch limitChoice % 8 {
        case 0: nil
        case 1: 0
        case 2: 1
        case 3: declared ?? 5
        case 4: max(0, (declared ?? 5) - 1)
        case 5: Int.max
        case 6: Int(limitChoice >> 3)
        default: Int(limitChoice >> 3) * 37
        }
    }
}

private struct FuzzHandlerError: Error {}

/// `STREAM_FUZZ_TRACE=1` prints what the driver and the readers do, to replay a crash by hand.
private let tracing = getenv("STREAM_FUZZ_TRACE") != nil

private func trace(_ message: @autoclosure () -> String) {
    guard tracing else { return }
    // Straight to file descriptor 2, unbuffered: the lines before a crash are not lost with it.
    var line = "stream-fuzz: \(message())\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// A violated invariant: the fuzzer reports it as a crash, with the input that found it.
private func violation(_ message: String, file: StaticString = #file, line: UInt = #line) -> Never {
    fatalError("stream-fuzz invariant: \(message)", file: file, line: line)
}

// MARK: What the handlers and the driver share

/// What a second parser saw of one request, the decisions of the input, and the handlers' state.
/// Handlers run on the loop or (off-loop readers) on the global executor, hence the mutex.
private final class World: Sendable {
    struct Seen {
        var head: HTTPRequestHead
        var body: [UInt8] = []
        var ended = false
    }

    private struct State {
        var tape: Tape
        var seen: [Seen] = []
        var parseError: HTTPParseError?
        var invocations = 0
        var liveTokens = 0
        var ticks = 0
        var tickWaiters: [(tick: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var bodies: [WeakBody] = []
        var continueReaders = 0
        var producerThrew = false
    }

    struct WeakBody {
        weak var body: InboundBody?
        var readToEnd = false
    }

    let offLoopAllowed: Bool
    private let state: Mutex<State>

    init(tape: [UInt8], offLoopAllowed: Bool) {
        self.offLoopAllowed = offLoopAllowed
        state = Mutex(State(tape: Tape(bytes: tape)))
    }

    func draw() -> UInt8 { state.withLock { $0.tape.next() } }

    // The second parser's view, fed by the driver before the connection gets the same bytes.

    func sawHead(_ head: HTTPRequestHead) { state.withLock { $0.seen.append(Seen(head: head)) } }
    func sawBody(_ bytes: UnsafeRawBufferPointer) {
        state.withLock { state in
            guard !state.seen.isEmpty else { violation("body bytes before any head") }
            state.seen[state.seen.count - 1].body.append(contentsOf: bytes)
        }
    }
    func sawEnd() {
        state.withLock { state in
            guard !state.seen.isEmpty else { violation("end before any head") }
            state.seen[state.seen.count - 1].ended = true
        }
    }
    func sawError(_ error: HTTPParseError) { state.withLock { $0.parseError = error } }
    /// The second parser stops at its first error, like the connection's.
    var parseErrorFree: Bool { state.withLock { $0.parseError == nil } }
    func seen(_ index: Int) -> Seen { state.withLock { $0.seen[index] } }
    var seenCount: Int { state.withLock { $0.seen.count } }

    // Handlers.

    /// Matches a handler to the request the second parser saw in the same position and draws its plan.
    func begin(_ request: Request) -> (index: Int, plan: ReadPlan) {
        state.withLock { state in
            let index = state.invocations
            state.invocations += 1
            guard index < state.seen.count else { violation("handler \(index) for a request the parser never saw") }
            let seen = state.seen[index]
            guard request.head == seen.head.request else {
                violation("handler \(index) got \(request.head) but request \(index) was \(seen.head.request)")
            }
            let declared: Int? =
                switch seen.head.framing {
                case .none: 0
                case .contentLength(let length): length
                case .chunked: nil
                }
            guard request.body.declaredLength == declared else {
                violation(
                    "request \(index): declared length \(String(describing: request.body.declaredLength)), framing \(seen.head.framing)"
                )
            }
            if case .stream(let inbound) = request.body.storage {
                guard inbound.expectsContinue == seen.head.expectsContinue else {
                    violation("request \(index): expectsContinue differs")
                }
                state.bodies.append(WeakBody(body: inbound))
            }
            // A body that arrived whole before its handler started comes as bytes; the reader's
            // checks compare them with the parser's body like any stream's chunks.
            let plan = ReadPlan(state.tape.next(), state.tape.next(), state.tape.next(), offLoopAllowed: offLoopAllowed)
            return (index, plan)
        }
    }

    func readerStarted(_ index: Int) {
        state.withLock { state in
            if state.seen[index].head.expectsContinue { state.continueReaders += 1 }
        }
    }

    var continueReaders: Int { state.withLock { $0.continueReaders } }

    /// A producer that throws makes the connection close at once: the client must see the body cut.
    func producerFailed() { state.withLock { $0.producerThrew = true } }
    var producerThrew: Bool { state.withLock { $0.producerThrew } }

    /// A reader received `chunk` after `offset` bytes of request `index`.
    func received(_ chunk: [UInt8], at offset: Int, of index: Int, limit: Int) {
        state.withLock { state in
            let body = state.seen[index].body
            guard offset + chunk.count <= limit else {
                violation("request \(index): reader got \(offset + chunk.count) bytes under a limit of \(limit)")
            }
            guard offset + chunk.count <= body.count, body[offset..<offset + chunk.count].elementsEqual(chunk) else {
                violation(
                    "request \(index): chunk at \(offset) (\(chunk.count) bytes) is not what the parser produced (\(body.count) bytes)"
                )
            }
        }
    }

    /// A reader saw the end of request `index`'s body after `count` bytes.
    func ended(_ index: Int, count: Int, body: InboundBody?) {
        state.withLock { state in
            let seen = state.seen[index]
            guard seen.ended, count == seen.body.count else {
                violation(
                    "request \(index): body ended after \(count) bytes; the parser saw \(seen.body.count), ended: \(seen.ended)"
                )
            }
            if let body {
                guard body.bufferedBytes == 0 else {
                    violation("request \(index): \(body.bufferedBytes) bytes buffered after the end")
                }
                if let slot = state.bodies.firstIndex(where: { $0.body === body }) {
                    state.bodies[slot].readToEnd = true
                }
            }
        }
    }

    /// A read of request `index` under `limit` threw `error` after `count` bytes.
    func failed(_ index: Int, error: any Error, count: Int, limit: Int, body: InboundBody?) {
        state.withLock { state in
            let seen = state.seen[index]
            if let error = error as? HTTPError {
                let declared: Int = if case .contentLength(let length) = seen.head.framing { length } else { 0 }
                guard error.status == .contentTooLarge, declared > limit || seen.body.count > limit else {
                    violation(
                        "request \(index): \(error) under a limit of \(limit); declared \(declared), parsed \(seen.body.count)"
                    )
                }
                if let body {
                    guard body.bufferedBytes == 0, body.wasRefused else {
                        violation(
                            "request \(index): refused but \(body.bufferedBytes) bytes buffered, wasRefused \(body.wasRefused)"
                        )
                    }
                }
                return
            }
            guard let error = error as? RequestBodyError else {
                violation("request \(index): unexpected error \(error)")
            }
            switch error {
            case .clientDisconnected:
                // The input is over (the driver checks that the connection closes).
                guard !seen.ended else { violation("request \(index): clientDisconnected after the body's end") }
            case .aborted:
                guard !seen.ended, state.parseError != nil else {
                    violation("request \(index): aborted without a parse error (ended: \(seen.ended))")
                }
            default:
                violation("request \(index): \(error) while its handler reads")
            }
        }
    }

    /// Readers wait for the driver's steps: this is the "demand".
    func waitTicks(_ count: Int) async {
        guard count > 0 else { return }
        await withCheckedContinuation { continuation in
            state.withLock { state in state.tickWaiters.append((state.ticks + count, continuation)) }
        }
    }

    func tick() {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.ticks += 1
            let ticks = state.ticks
            let ready = state.tickWaiters.filter { $0.tick <= ticks }.map(\.continuation)
            state.tickWaiters.removeAll { $0.tick <= ticks }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    // Handlers and producers still alive.

    func tokenCreated() { state.withLock { $0.liveTokens += 1 } }
    func tokenFreed() { state.withLock { $0.liveTokens -= 1 } }
    var liveTokens: Int { state.withLock { $0.liveTokens } }

    /// Every body still alive: bufferedBytes never negative.
    func checkBodies() {
        state.withLock { state in
            for entry in state.bodies {
                guard let body = entry.body else { continue }
                // An off-loop reader may refuse the body meanwhile: the flag, which stays set, is
                // read first, so a refused body's count is read after its refusal.
                let refused = body.wasRefused
                let buffered = body.bufferedBytes
                guard buffered >= 0 else { violation("bufferedBytes is \(buffered)") }
                guard !entry.readToEnd || buffered == 0 else {
                    violation("\(buffered) bytes buffered after a read to the end")
                }
                guard !refused || buffered == 0 else { violation("\(buffered) bytes buffered in a refused body") }
            }
        }
    }

    var liveBodies: Int { state.withLock { $0.bodies.count { $0.body != nil } } }
    var invocations: Int { state.withLock { $0.invocations } }
}

/// Alive while a handler or a streamed response's producer may still run.
private final class Token: Sendable {
    let world: World
    init(_ world: World) {
        self.world = world
        world.tokenCreated()
    }
    deinit { world.tokenFreed() }
}

// MARK: The handler

/// Answers every request, reading its body as the tape says.
private struct Reader: Middleware {
    let world: World

    func respond(to request: Request, next: Responder) async throws -> Response {
        let token = Token(world)
        defer { withExtendedLifetime(token) {} }
        let (index, plan) = world.begin(request)
        trace(
            "request \(index): \(request.method.rawValue) \(request.path), declared \(String(describing: request.body.declaredLength)), plan \(plan)"
        )
        if plan.mode == .producer {
            let producerToken = Token(world)
            return Response(
                body: ResponseBody { [world] writer in
                    defer { withExtendedLifetime(producerToken) {} }
                    do {
                        try await Self.read(request, index: index, plan: plan, world: world) { count in
                            try await writer.write(Array("\(count);".utf8))
                        }
                    } catch {
                        world.producerFailed()
                        throw error
                    }
                })
        }
        if plan.offLoop {
            let world = world
            // Off the loop: the reader's wake-ups and notifications cross threads.
            try await Task.detached {
                try await Self.read(request, index: index, plan: plan, world: world) { _ in }
            }.value
        } else {
            try await Self.read(request, index: index, plan: plan, world: world) { _ in }
        }
        if plan.mode == .readSomeThenThrow { throw FuzzHandlerError() }
        return Response(bytes: Array("request \(index)".utf8))
    }

    private static func read(
        _ request: Request, index: Int, plan: ReadPlan, world: World,
        onChunk: (Int) async throws -> Void
    ) async throws {
        let inbound: InboundBody? = if case .stream(let inbound) = request.body.storage { inbound } else { nil }
        let chosen = plan.limit(declared: request.body.declaredLength)
        var body = request.body
        if let chosen, plan.mode != .collectUpTo { body = body.withLimit(chosen) }
        let limit = plan.mode == .collectUpTo ? (chosen ?? body.limit) : body.limit
        if plan.mode == .ignore { return }
        world.readerStarted(index)
        var count = 0
        switch plan.mode {
        case .collect, .collectUpTo:
            await world.waitTicks(Int(world.draw() % 4))
            let bytes: [UInt8]
            do {
                bytes = plan.mode == .collect ? try await body.collect() : try await body.collect(upTo: limit)
            } catch {
                trace("request \(index): collect: \(error)")
                world.failed(index, error: error, count: 0, limit: limit, body: inbound)
                throw error
            }
            trace("request \(index): collected \(bytes.count)")
            world.received(bytes, at: 0, of: index, limit: limit)
            world.ended(index, count: bytes.count, body: inbound)
            try await onChunk(bytes.count)
            try await readAgain(body, collected: bytes, index: index, plan: plan, limit: limit)
        default:
            var iterator = body.makeAsyncIterator()
            var chunks = 0
            while true {
                let pause = world.draw()
                await world.waitTicks(Int(pause % 4))
                if pause & 0x70 == 0x70 { await Task.yield() }
                let chunk: [UInt8]?
                do {
                    chunk = try await iterator.next()
                } catch {
                    trace("request \(index): \(error) after \(count) bytes")
                    world.failed(index, error: error, count: count, limit: limit, body: inbound)
                    throw error
                }
                guard let chunk else {
                    trace("request \(index): end after \(count) bytes")
                    world.ended(index, count: count, body: inbound)
                    // A finished iterator stays finished.
                    guard try await iterator.next() == nil else { violation("request \(index): a chunk after the end") }
                    if plan.mode == .iterate || plan.mode == .producer {
                        try await readAgain(body, collected: nil, index: index, plan: plan, limit: limit)
                    }
                    return
                }
                trace("request \(index): chunk of \(chunk.count) at \(count)")
                world.received(chunk, at: count, of: index, limit: limit)
                count += chunk.count
                chunks += 1
                try await onChunk(chunk.count)
                if plan.mode == .readSome || plan.mode == .readSomeThenThrow, chunks >= plan.stopAfter { return }
            }
        }
    }

    /// A second read of a body read whole: `collected` when it was collected, `nil` when iterated.
    private static func readAgain(_ body: RequestBody, collected: [UInt8]?, index: Int, plan: ReadPlan, limit: Int)
        async throws
    {
        switch (plan.again, collected) {
        case (.none, _):
            return
        case (.collect, let collected?):
            let again = try await body.collect(upTo: limit)
            guard again == collected else { violation("request \(index): a second collect differs") }
        case (.iterate, let collected?):
            var bytes: [UInt8] = []
            for try await chunk in body { bytes += chunk }
            guard bytes == collected else { violation("request \(index): iterating a collected body differs") }
        case (.collect, nil):
            if case .bytes = body.storage { return }
            do {
                _ = try await body.collect(upTo: limit)
                violation("request \(index): collect after iterating succeeded")
            } catch let error as RequestBodyError where error == .alreadyConsumed {}
        case (.iterate, nil):
            // Bytes in memory (a body that came whole with its head) can be read again.
            if case .bytes = body.storage { return }
            // A new iterator of a stream that was read to its end finds it ended.
            var iterator = body.makeAsyncIterator()
            guard try await iterator.next() == nil else {
                violation("request \(index): a second iteration yielded a chunk")
            }
        }
    }
}

// MARK: The client side

/// A socket stand-in on the loop: writes complete at once or are held until the driver releases
/// them; reads are delivered by the driver only while the connection reads.
private final class FuzzTransport: ConnectionTransport {
    private let world: World
    /// The driver reset the input, failed writes or fired timeouts: a close may cut what is unsent.
    var writesMayBeCut = false
    /// Inside a write's successful completion: a close there follows an answer that said
    /// `Connection: close`, and what it cuts was written after that answer.
    private var completing = false
    private(set) var isReading = false
    private(set) var isClosed = false
    /// While true, writes wait for ``release(_:)``.
    var holdsWrites = false
    private(set) var continues = 0
    private var held: [(bytes: [UInt8], completion: ((UVError?) -> Void)?)] = []
    private var onBytes: ((UnsafeRawBufferPointer) -> Void)?
    private var onEnd: ((UVError?) -> Void)?
    private static let interim = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
    static let reset = UVError(code: -104, operation: "read")

    init(world: World) { self.world = world }

    func startReading(onBytes: @escaping (UnsafeRawBufferPointer) -> Void, onEnd: @escaping (UVError?) -> Void) {
        self.onBytes = onBytes
        self.onEnd = onEnd
        isReading = true
    }

    func stopReading() {
        trace("connection stops reading")
        isReading = false
    }

    func resumeReading() {
        trace("connection resumes reading")
        if !isClosed { isReading = true }
    }

    func write(_ bytes: [UInt8], prefix: [UInt8], suffix: [UInt8], completion: ((UVError?) -> Void)?) {
        write(prefix + bytes + suffix, completion: completion)
    }

    func write(_ bytes: [UInt8], completion: ((UVError?) -> Void)?) {
        guard !isClosed else {
            completion?(UVError(code: -32, operation: "write"))
            return
        }
        if bytes == Self.interim { continues += 1 }
        trace(
            "write \(bytes.count)\(holdsWrites ? " (held)" : ""): \(String(decoding: bytes.prefix(40), as: UTF8.self).debugDescription)"
        )
        // Writes complete in order, as on a socket: none overtakes one still held.
        if holdsWrites || !held.isEmpty {
            held.append((bytes, completion))
        } else {
            completion?(nil)
        }
    }

    var pendingWriteBytes: Int { held.reduce(0) { $0 + $1.bytes.count } }
    var hasHeldWrites: Bool { !held.isEmpty }

    func setNoDelay(_ enabled: Bool) {}

    func close(_ onClosed: (() -> Void)?) {
        guard !isClosed else { return }
        trace("connection closes")
        // Otherwise the connection closes by its own choice (EOF, Connection: close, an error
        // answer, shutdown) and must wait until the client took what it wrote.
        guard held.isEmpty || writesMayBeCut || completing || world.producerThrew else {
            violation("the connection closed with \(pendingWriteBytes) written bytes the client had not taken")
        }
        isClosed = true
        isReading = false
        onBytes = nil
        onEnd = nil
        failHeldWrites()
        onClosed?()
    }

    /// The client takes the oldest `count` held writes.
    func release(_ count: Int) {
        var left = count
        while left > 0, !held.isEmpty {
            left -= 1
            completing = true
            held.removeFirst().completion?(nil)
            completing = false
        }
    }

    func failHeldWrites() {
        while !held.isEmpty {
            held.removeFirst().completion?(UVError(code: -104, operation: "write"))
        }
    }

    /// Delivers `bytes` from a buffer of their own, freed at once: ASan sees a slice kept too long.
    func deliver(_ bytes: ArraySlice<UInt8>) {
        guard let onBytes, isReading else { return }
        let copy = Array(bytes)
        copy.withUnsafeBytes { onBytes($0) }
    }

    func end(_ error: UVError?) {
        let callback = onEnd
        onEnd = nil
        onBytes = nil
        callback?(error)
    }
}

private final class FuzzClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(by duration: Duration) { instant.withLock { $0 += duration } }
}

/// Runs one input on the loop: one action per loop round, then the end of the input, then waits
/// for every handler to finish and the connection to close.
private final class Driver {
    let world: World
    let loop: EventLoop
    let worker: WorkerContext
    let transport: FuzzTransport
    let clock = FuzzClock()
    var connection: HTTPConnection?
    weak var weakConnection: HTTPConnection?
    let wire: [UInt8]
    let resetAtEnd: Bool
    var offset = 0
    var parser: HTTPRequestParser
    var inputEnded = false
    var idleRounds = 0
    var rounds = 0
    var ending = false
    var endingSince: ContinuousClock.Instant?
    var endingRounds = 0

    init(world: World, loop: EventLoop, worker: WorkerContext, wire: [UInt8], resetAtEnd: Bool) {
        self.world = world
        self.loop = loop
        self.worker = worker
        self.wire = wire
        self.resetAtEnd = resetAtEnd
        transport = FuzzTransport(world: world)
        parser = HTTPRequestParser(limits: worker.parserLimits)
    }

    func start() {
        let clock = clock
        let connection = HTTPConnection(id: 1, transport: transport, worker: worker, clock: { clock.now }) { _ in }
        self.connection = connection
        weakConnection = connection
        connection.start()
        schedule()
    }

    private func schedule() {
        let driver = LoopBound(self, on: loop)
        guard loop.execute({ driver.withValue { $0.round() } }) else { violation("the loop refused the driver") }
    }

    private func round() {
        rounds += 1
        if ending { endRound() } else { mainRound() }
        check()
        if transport.isClosed, world.liveTokens == 0 {
            finish()
        } else {
            schedule()
        }
    }

    private func mainRound() {
        let action = world.draw()
        trace(
            "round \(rounds): action \(action % 8), reading \(transport.isReading), held writes \(transport.pendingWriteBytes)"
        )
        switch action % 8 {
        case 0, 1, 2:
            if !deliverNext(size: world.draw()) { idleRounds += 1 }
        case 3:
            world.tick()
            idleRounds += 1
        case 4:
            transport.release(Int(action >> 3 & 3) + 1)
            idleRounds += 1
        case 5:
            transport.holdsWrites.toggle()
            idleRounds += 1
        case 6:
            idleRounds += 1
        default:
            rare(world.draw())
        }
        if inputEnded || transport.isClosed || offset == wire.count || idleRounds > 64 {
            ending = true
            endingSince = .now
        }
    }

    private func rare(_ choice: UInt8) {
        trace("rare \(choice % 16)")
        switch choice % 16 {
        case 0:
            endInput(nil)
        case 1:
            transport.writesMayBeCut = true
            endInput(FuzzTransport.reset)
        case 2:
            transport.writesMayBeCut = true
            transport.failHeldWrites()
        case 3:
            worker.isShuttingDown = true
            connection?.beginShutdown()
        case 4, 5:
            fireTimeouts(after: .seconds(1))
        case 6:
            // Past the request timeout (when set) and the header-read timeout.
            fireTimeouts(after: .seconds(11))
        case 7:
            // Past the idle timeout: a stalled body read closes the connection.
            fireTimeouts(after: .seconds(61))
        default:
            world.tick()
        }
    }

    /// A timed-out connection closes at once, cutting what the client did not take.
    private func fireTimeouts(after duration: Duration) {
        transport.writesMayBeCut = true
        clock.advance(by: duration)
        connection?.checkTimeouts(now: clock.now)
    }

    /// The client sends what is left, lets writes through and readers go on, then ends its input.
    private func endRound() {
        if rounds % 1000 == 1 {
            trace("ending, round \(rounds): reading \(transport.isReading), closed \(transport.isClosed)")
        }
        transport.holdsWrites = false
        transport.release(Int.max)
        world.tick()
        if !inputEnded, transport.isReading {
            if offset < wire.count {
                _ = deliverNext(size: world.draw())
            } else {
                if resetAtEnd { transport.writesMayBeCut = true }
                endInput(resetAtEnd ? FuzzTransport.reset : nil)
            }
        }
        endingRounds += 1
        // A hang is both: 5 s, and so many rounds that a process starved of CPU (nice 19 on a
        // busy machine) cannot pass for one.
        if let since = endingSince, endingRounds > 500_000, rounds % 256 == 0, ContinuousClock.now - since > .seconds(5)
        {
            let state =
                "closed \(transport.isClosed), reading \(transport.isReading), input ended \(inputEnded), "
                + "\(wire.count - offset) bytes unsent, handlers/producers alive \(world.liveTokens), "
                + "requests \(world.seenCount), handlers \(world.invocations), parsing body \(connection?.parsingBody != nil), "
                + "owes responses \(connection?.owesResponses ?? false)"
            violation("hang after the input ended: \(state)")
        }
    }

    /// Delivers the next read, its size picked by `size`; false when the connection does not read.
    private func deliverNext(size: UInt8) -> Bool {
        guard !inputEnded, transport.isReading, !transport.isClosed, offset < wire.count else { return false }
        let sizes = [1, 1, 2, 3, 5, 8, 13, 64, 100, 512, 4096, Int(size >> 3) + 1]
        let count = min(sizes[Int(size % UInt8(sizes.count))], wire.count - offset)
        let bytes = wire[offset..<offset + count]
        trace("deliver \(count) at \(offset): \(String(decoding: bytes, as: UTF8.self).debugDescription)")
        offset += count
        // The second parser sees the bytes first, so it is never behind what a reader gets.
        if world.parseErrorFree {
            do {
                try bytes.withUnsafeBytes { buffer in
                    try parser.parse(buffer) { event in
                        switch event {
                        case .head(let head): world.sawHead(head)
                        case .body(let slice): world.sawBody(slice)
                        case .end: world.sawEnd()
                        }
                    }
                }
            } catch let error as HTTPParseError {
                world.sawError(error)
            } catch {
                violation("parser threw \(error)")
            }
        }
        transport.deliver(bytes)
        idleRounds = 0
        return true
    }

    private func endInput(_ error: UVError?) {
        guard !inputEnded, !transport.isClosed else { return }
        inputEnded = true
        trace("input ends: \(error.map { "\($0)" } ?? "EOF")")
        transport.end(error)
    }

    private func check() {
        world.checkBodies()
        if let connection, let (body, sequence) = connection.parsingBody {
            guard body.bufferedBytes >= 0 else { violation("parsing body buffers \(body.bufferedBytes)") }
            if let remaining = body.remainingDeclaredBytes, let declared = body.declaredLength,
                sequence < world.seenCount
            {
                let parsed = world.seen(sequence).body.count
                guard declared - remaining == parsed else {
                    violation(
                        "request \(sequence): the connection counted \(declared - remaining) body bytes, the parser \(parsed)"
                    )
                }
            }
        }
        guard transport.continues <= world.continueReaders else {
            violation(
                "\(transport.continues) 100 Continue answers for \(world.continueReaders) readers that expected one")
        }
    }

    private func finish() {
        connection = nil
        loop.shutdown()
    }
}

// MARK: Entry

private let logger = Logger(label: "stream-fuzz") { _ in SwiftLogNoOpLogHandler() }

private func configuration(_ byte: UInt8, requestTimeout: Bool) -> AppConfiguration {
    var configuration = AppConfiguration(workers: 1)
    configuration.requestBodyHighWaterMark = [256 * 1024, 1, 16, 300][Int(byte & 3)]
    configuration.unreadBodyDrainLimit = [256 * 1024, 0, 10, 100][Int(byte >> 2 & 3)]
    configuration.limits.maxBodySize = [8 * 1024 * 1024, 0, 16, 200][Int(byte >> 4 & 3)]
    if byte & 0x40 != 0 { configuration.writeHighWaterMark = 16 }
    if byte & 0x80 != 0 {
        // Small head limits, so that short inputs reach the 414 and 431 paths.
        configuration.limits.maxRequestLineLength = 64
        configuration.limits.maxHeaderSectionSize = 256
        configuration.limits.maxFieldCount = 8
    }
    if requestTimeout { configuration.requestTimeout = .seconds(5) }
    return configuration
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStreams(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let first = input.first ?? 0
    let second = input.count > 1 ? input[1] : 0
    let tapeEnd = min(input.count, 2 + Int(second & 31) + 1)
    let tape = tapeEnd > 2 ? Array(input[2..<tapeEnd]) : [0]
    let wire = Array(input[tapeEnd...])

    let world = World(tape: tape, offLoopAllowed: second & 0x40 != 0)
    let app = App(configuration: configuration(first, requestTimeout: second & 0x20 != 0), logger: logger)
    app.add(middleware: Reader(world: world))
    let loop: EventLoop
    let responder: AppResponder
    do {
        loop = try EventLoop(name: "stream-fuzz", thread: .caller)
        responder = try app.prepare()
    } catch {
        fatalError("setup failed: \(error)")
    }
    let worker = WorkerContext(
        index: 0, loop: loop, responder: responder, configuration: app.configuration,
        services: app.services, logger: logger, dateCache: HTTPDateCache())
    let driver = Driver(world: world, loop: loop, worker: worker, wire: wire, resetAtEnd: second & 0x80 != 0)
    let bound = LoopBound(driver, on: loop)
    loop.execute { bound.withValue { $0.start() } }
    // Runs the loop on this thread until the driver shuts it down: the loop ran here, so the
    // driver may be looked at here afterwards.
    loop.run()
    let weakConnection = driver.weakConnection
    if weakConnection != nil { violation("the connection outlived its input (a reference cycle?)") }
    if world.liveBodies != 0 { violation("\(world.liveBodies) request bodies outlived their input") }
    return 0
}
