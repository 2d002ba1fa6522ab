import HTTPTypes
import Logging
import LoopworkHTTP
import LoopworkUV

/// What a streamed response body needs from its connection, on the connection's loop.
protocol OutboundBodyConnection: AnyObject {
    /// Writes body bytes, between `prefix` and `suffix` (a chunk's framing), after everything
    /// written before.
    func writeBodyBytes(_ bytes: [UInt8], prefix: [UInt8], suffix: [UInt8], completion: @escaping (UVError?) -> Void)
    /// Bytes written and not yet taken by the kernel.
    var unsentBytes: Int { get }
    /// The body ended: complete (`failed == false`) or with its producer's error.
    func outboundBodyEnded(_ body: OutboundBody, failed: Bool)
}

/// One streamed response body on the wire: runs its producer in a task that prefers the loop,
/// frames what it writes, holds it back while the client is slow, and reports the response's
/// milestone exactly once — when the last byte is handed to the kernel, when the client is gone,
/// or when the producer throws.
// @unchecked: every stored var is read and written only on `loop`'s thread: the connection
// calls in from there, and the writer's entry points (`write`, `setTrailers`) hop onto the loop
// before they touch anything; the producer task only calls those entry points.
final class OutboundBody: ResponseBodySink, @unchecked Sendable {
    enum Framing: Equatable {
        case contentLength(Int)
        case chunked
        /// HTTP/1.0 without a length: the body ends when the connection closes.
        case closeDelimited
    }

    let framing: Framing
    private let loop: EventLoop
    private let context: RequestContext
    private let produce: @Sendable (ResponseBodyWriter) async throws -> Void
    private let serializer: HTTPResponseSerializer
    private let highWaterMark: Int
    private weak var connection: (any OutboundBodyConnection)?
    private var task: Task<Void, Never>?
    private var writtenBytes = 0
    private var trailers: HTTPFields?
    private var trailersWritten = false
    private var producerEnded = false
    private var reported = false
    private var clientGone = false
    private var outstandingWrites = 0
    private var writers: [CheckedContinuation<Void, any Error>] = []

    init(
        framing: Framing, produce: @escaping @Sendable (ResponseBodyWriter) async throws -> Void,
        context: RequestContext,
        loop: EventLoop, serializer: HTTPResponseSerializer, highWaterMark: Int, connection: any OutboundBodyConnection
    ) {
        self.framing = framing
        self.produce = produce
        self.context = context
        self.loop = loop
        self.serializer = serializer
        self.highWaterMark = highWaterMark
        self.connection = connection
    }

    /// Starts the producer; called once the head is written and earlier responses are out.
    func start() {
        task = Task(executorPreference: loop.taskExecutor) { [self] in
            do {
                try await produce(ResponseBodyWriter(sink: self))
                onLoop { self.producerReturned() }
            } catch {
                onLoop { self.producerFailed(error) }
            }
        }
    }

    // MARK: Writer side (the producer's task)

    func write(_ bytes: [UInt8]) async throws {
        if loop.inEventLoop {
            switch send(bytes) {
            case .sent: return
            case .failed(let error): throw error
            case .mustWait: break
            }
            try await withCheckedThrowingContinuation { writers.append($0) }
            return
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let accepted = loop.execute {
                switch self.send(bytes) {
                case .sent: continuation.resume()
                case .failed(let error): continuation.resume(throwing: error)
                case .mustWait: self.writers.append(continuation)
                }
            }
            if !accepted { continuation.resume(throwing: ResponseBodyError.clientDisconnected) }
        }
    }

    func setTrailers(_ trailers: HTTPFields) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            onLoop {
                if self.clientGone {
                    continuation.resume(throwing: ResponseBodyError.clientDisconnected)
                } else if self.trailersWritten {
                    continuation.resume(throwing: ResponseBodyError.writeAfterTrailers)
                } else {
                    self.trailersWritten = true
                    // Only chunked coding carries trailers.
                    if self.framing == .chunked { self.trailers = trailers }
                    continuation.resume()
                }
            }
        }
    }

    private enum SendResult {
        case sent
        case mustWait
        case failed(any Error)
    }

    private func send(_ bytes: [UInt8]) -> SendResult {
        guard !clientGone, let connection else { return .failed(ResponseBodyError.clientDisconnected) }
        guard !trailersWritten, !producerEnded else { return .failed(ResponseBodyError.writeAfterTrailers) }
        if case .contentLength(let declared) = framing, writtenBytes + bytes.count > declared {
            return .failed(ResponseBodyError.lengthMismatch(declared: declared, written: writtenBytes + bytes.count))
        }
        writtenBytes += bytes.count
        outstandingWrites += 1
        let completion: (UVError?) -> Void = { [self] error in
            outstandingWrites -= 1
            if error == nil { reportIfComplete() }
        }
        if framing == .chunked {
            connection.writeBodyBytes(
                bytes, prefix: serializer.chunkHeader(count: bytes.count),
                suffix: HTTPResponseSerializer.chunkTerminator, completion: completion)
        } else {
            connection.writeBodyBytes(bytes, prefix: [], suffix: [], completion: completion)
        }
        if clientGone { return .failed(ResponseBodyError.clientDisconnected) }
        return connection.unsentBytes > highWaterMark ? .mustWait : .sent
    }

    // MARK: Connection side (the loop)

    /// The kernel took bytes: writers waiting for the client resume once half the high-water
    /// mark is left.
    func writeProgressed() {
        guard !writers.isEmpty, let connection, connection.unsentBytes <= highWaterMark / 2 else { return }
        let waiting = writers
        writers = []
        for writer in waiting { writer.resume() }
    }

    /// The connection closed: the producer's next write throws and its task is cancelled.
    func connectionClosed() {
        guard !clientGone else { return }
        clientGone = true
        let waiting = writers
        writers = []
        for writer in waiting { writer.resume(throwing: ResponseBodyError.clientDisconnected) }
        task?.cancel()
        if !reported {
            reported = true
            context.responseFinished(delivered: false)
        }
    }

    private func producerReturned() {
        guard !producerEnded, !clientGone else { return }
        if case .contentLength(let declared) = framing, writtenBytes != declared {
            producerFailed(ResponseBodyError.lengthMismatch(declared: declared, written: writtenBytes))
            return
        }
        producerEnded = true
        if framing == .chunked, let connection {
            var last: [UInt8] = []
            serializer.writeFinalChunk(trailers: trailers, into: &last)
            outstandingWrites += 1
            connection.writeBodyBytes(last, prefix: [], suffix: []) { [self] error in
                outstandingWrites -= 1
                if error == nil { reportIfComplete() }
            }
        }
        reportIfComplete()
    }

    private func producerFailed(_ error: any Error) {
        guard !clientGone, !reported else {
            context.logger.debug(
                "response body ended because the client is gone",
                metadata: [
                    "route": "\(context.route ?? "-")", "error": "\(String(reflecting: error))",
                ])
            return
        }
        producerEnded = true
        reported = true
        context.logger.error(
            "response body failed; closing the connection",
            metadata: [
                "route": "\(context.route ?? "-")", "error": "\(String(reflecting: error))",
            ])
        context.responseFinished(delivered: false, bodyFailed: true)
        connection?.outboundBodyEnded(self, failed: true)
    }

    private func reportIfComplete() {
        guard producerEnded, !reported, !clientGone, outstandingWrites == 0 else { return }
        reported = true
        context.responseFinished(delivered: true)
        connection?.outboundBodyEnded(self, failed: false)
    }

    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        if loop.inEventLoop {
            body()
        } else if !loop.execute(body) {
            // The loop is gone, and the connection with it.
            body()
        }
    }
}
