import Foundation
import HTTPTypes
import Logging
import LoopworkHTTP
import LoopworkTestSupport
import LoopworkUV

@testable import Loopwork

/// A socket stand-in: records what the connection writes, lets a test hold writes back (a slow
/// client) and deliver bytes or an end of input. Lives on the harness's loop.
final class FakeTransport: ConnectionTransport {
    private(set) var written: [UInt8] = []
    private var held: [(bytes: [UInt8], completion: ((UVError?) -> Void)?)] = []
    /// While true, writes stay pending (the client does not read) until ``release()``.
    var holdsWrites = false
    private(set) var isReading = false
    private(set) var stopCount = 0
    private(set) var isClosed = false
    private var onBytes: ((UnsafeRawBufferPointer) -> Void)?
    private var onEnd: ((UVError?) -> Void)?
    var changed: () -> Void = {}

    var text: String { String(decoding: written, as: UTF8.self) }

    func startReading(onBytes: @escaping (UnsafeRawBufferPointer) -> Void, onEnd: @escaping (UVError?) -> Void) {
        self.onBytes = onBytes
        self.onEnd = onEnd
        isReading = true
    }

    func stopReading() {
        if isReading { stopCount += 1 }
        isReading = false
        changed()
    }

    func resumeReading() {
        isReading = true
        changed()
    }

    func write(_ bytes: [UInt8], completion: ((UVError?) -> Void)?) {
        guard !isClosed else {
            completion?(UVError(code: -125, operation: "write"))
            return
        }
        if holdsWrites {
            held.append((bytes, completion))
        } else {
            written += bytes
            completion?(nil)
        }
        changed()
    }

    func write(_ bytes: [UInt8], prefix: [UInt8], suffix: [UInt8], completion: ((UVError?) -> Void)?) {
        write(prefix + bytes + suffix, completion: completion)
    }

    var pendingWriteBytes: Int { held.reduce(0) { $0 + $1.bytes.count } }

    func setNoDelay(_ enabled: Bool) {}

    func close(_ onClosed: (() -> Void)?) {
        guard !isClosed else { return }
        isClosed = true
        let pending = held
        held = []
        for write in pending { write.completion?(UVError(code: -125, operation: "write")) }
        onClosed?()
        changed()
    }

    /// The client takes every held byte.
    func release() {
        holdsWrites = false
        while !held.isEmpty {
            let write = held.removeFirst()
            written += write.bytes
            write.completion?(nil)
        }
        changed()
    }

    /// The client sends `bytes`.
    func deliver(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { onBytes?($0) }
        changed()
    }

    /// The client's input ends: `nil` for a clean EOF, else a reset.
    func end(_ error: UVError? = nil) {
        let callback = onEnd
        onEnd = nil
        callback?(error)
        changed()
    }
}

/// A clock a test moves by hand.
final class ManualClock: Sendable {
    private let instant = Locked(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(by duration: Duration) { instant.withLock { $0 += duration } }
}

/// An ``HTTPConnection`` over a ``FakeTransport`` on a real loop (no socket): the test feeds bytes
/// and awaits conditions on what was written, checked after every transport event.
final class ConnectionHarness: Sendable {
    let loop: EventLoop
    let clock = ManualClock()
    private let parts: LoopBound<Parts>
    private let waiters = Locked<
        [(id: Int, check: @Sendable (FakeTransport) -> Bool, continuation: CheckedContinuation<Void, Never>)]
    >([])
    private let nextWaiter = Locked(0)

    private final class Parts {
        let transport = FakeTransport()
        var connection: HTTPConnection?
        weak var released: HTTPConnection?
    }

    init(app: App) async throws {
        let loop = try EventLoop(name: "connection-harness")
        self.loop = loop
        let responder = try app.prepare()
        let worker = WorkerContext(
            index: 0, loop: loop, responder: responder, configuration: app.configuration,
            services: app.services, logger: app.logger, dateCache: HTTPDateCache())
        let clock = clock
        // Boxed on the loop, as a loop-bound value must be.
        parts = await withCheckedContinuation { continuation in
            _ = loop.execute { continuation.resume(returning: LoopBound(Parts(), on: loop)) }
        }
        await onLoop { parts in
            let connection = HTTPConnection(id: 1, transport: parts.transport, worker: worker, clock: { clock.now }) {
                _ in
            }
            parts.connection = connection
            parts.transport.changed = { [weak self] in self?.checkWaiters() }
            connection.start()
        }
    }

    private func onLoop<T: Sendable>(_ body: @escaping @Sendable (Parts) -> T) async -> T {
        let parts = parts
        return await withCheckedContinuation { continuation in
            _ = loop.execute { continuation.resume(returning: parts.withValue(body)) }
        }
    }

    /// Runs `body` on the loop with the transport and the connection.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (FakeTransport, HTTPConnection) -> T) async -> T {
        await onLoop { parts in
            // The connection exists from `init` on.
            body(parts.transport, parts.connection!)
        }
    }

    func send(_ text: String) async {
        await send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) async {
        await onLoop { $0.transport.deliver(bytes) }
    }

    var written: String { get async { await onLoop { $0.transport.text } } }

    /// Returns once `condition` holds for the transport; checked now and after every change.
    func waitUntil(_ condition: @escaping @Sendable (FakeTransport) -> Bool) async {
        let id = nextWaiter.withLock { value in
            value += 1
            return value
        }
        await withCheckedContinuation { continuation in
            waiters.withLock { $0.append((id, condition, continuation)) }
            _ = loop.execute { [self] in checkWaiters() }
        }
    }

    /// Waits until the written text contains `text` `count` times.
    func waitForOutput(_ text: String, count: Int = 1) async {
        await waitUntil { $0.text.components(separatedBy: text).count - 1 >= count }
    }

    private func checkWaiters() {
        let ready = parts.withValue { parts in
            waiters.withLock { waiters in
                let ready = waiters.filter { $0.check(parts.transport) }
                waiters.removeAll { waiter in ready.contains { $0.id == waiter.id } }
                return ready
            }
        }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// Closes the connection and lets go of it; returns whether anything still holds it once
    /// the jobs its closing queued on the loop have run.
    func closeAndCheckReleased() async -> Bool {
        await onLoop { parts in
            parts.connection?.close()
            parts.released = parts.connection
            parts.connection = nil
        }
        // Queued after whatever the close queued (a parked handler task's last job), so it runs after it.
        return await onLoop { parts in parts.released == nil }
    }

    func shutdown() async {
        await onLoop { parts in parts.connection?.close() }
        await loop.shutdownGracefully()
    }
}

/// Records a request's milestones in order, as the task scheduler sees them.
final class MilestoneRecorder: RequestLifecycleObserver {
    private let events = Locked<[String]>([])
    private let gate = Gates()

    var recorded: [String] { events.withLock { $0 } }

    func handlerFinished(succeeded: Bool) {
        record(succeeded ? "handler" : "handler-failed")
    }

    func responseFinished(delivered: Bool, bodyFailed: Bool) {
        record(bodyFailed ? "body-failed" : delivered ? "delivered" : "not-delivered")
    }

    private func record(_ event: String) {
        events.withLock { $0.append(event) }
        gate[event].open()
    }

    /// Returns once `event` was recorded.
    func wait(for event: String) async {
        await gate[event].wait()
    }
}
