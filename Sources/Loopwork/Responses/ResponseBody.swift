public import HTTPTypes
import LoopworkUV

/// The body of a ``Response``: bytes already in memory, or a producer that writes the body while
/// it is sent.
///
/// A producer runs once the response's head is on its way and every earlier response on the
/// connection is out, so pipelined answers keep their order. Its `write` suspends while the client
/// is slower than the producer (the connection's unsent bytes are above
/// ``AppConfiguration/writeHighWaterMark``), so a slow reader never makes the server buffer without
/// bound; once the client is gone `write` throws and the producer's task is cancelled.
///
/// ```swift
/// app.get("/numbers") { () -> Response in
///     Response(body: ResponseBody { writer in
///         for number in 1...1000 { try await writer.write("\(number)\n") }
///     })
/// }
/// ```
///
/// Framing follows from ``length``: a known length is sent as `Content-Length` (writing more or
/// fewer bytes is an error that closes the connection), an unknown one with chunked
/// transfer-coding, or, to an HTTP/1.0 client, by closing the connection after the body. A `HEAD`
/// request never runs the producer.
public struct ResponseBody: Sendable {
    enum Storage: Sendable {
        case bytes([UInt8])
        case stream(@Sendable (ResponseBodyWriter) async throws -> Void)
    }

    let storage: Storage
    /// The body's length in bytes when known in advance; `nil` for a stream of unknown length.
    public let length: Int?

    /// No body.
    public static let empty = ResponseBody(bytes: [])

    /// A body of bytes already in memory.
    public init(bytes: [UInt8]) {
        storage = .bytes(bytes)
        length = bytes.count
    }

    /// A body written by `produce` while the response is sent.
    ///
    /// - Parameters:
    ///   - length: The exact number of bytes `produce` writes, sent as `Content-Length`; `nil` when
    ///     it is not known in advance.
    ///   - produce: Writes the body through the writer and returns when it is complete. An error it
    ///     throws closes the connection (the status is already sent) and is logged with the route
    ///     and the request id; the request's after-response tasks are then discarded unless they
    ///     were scheduled with `always`.
    public init(length: Int? = nil, _ produce: @escaping @Sendable (ResponseBodyWriter) async throws -> Void) {
        storage = .stream(produce)
        self.length = length.map { max(0, $0) }
    }

    /// A body made of the chunks of `chunks`, written in order as the sequence yields them.
    public init<Chunks: AsyncSequence & Sendable>(length: Int? = nil, chunks: Chunks) where Chunks.Element == [UInt8] {
        self.init(length: length) { writer in
            for try await chunk in chunks { try await writer.write(chunk) }
        }
    }

    /// The bytes of an in-memory body; `nil` for a producer.
    public var bytes: [UInt8]? {
        if case .bytes(let bytes) = storage { return bytes }
        return nil
    }

    /// Runs the producer into memory, at most `maxBytes`: for tests and middleware that must see
    /// the whole body. Prefer streaming in servers.
    ///
    /// - Throws: ``HTTPError`` 500 when the body passes `maxBytes`, or the producer's error.
    public func collect(upTo maxBytes: Int) async throws -> [UInt8] {
        switch storage {
        case .bytes(let bytes):
            guard bytes.count <= maxBytes else { throw Self.tooLarge(maxBytes) }
            return bytes
        case .stream(let produce):
            let sink = CollectingBodySink(limit: maxBytes)
            try await produce(ResponseBodyWriter(sink: sink))
            return try sink.finish(expectedLength: length)
        }
    }

    static func tooLarge(_ maxBytes: Int) -> HTTPError {
        HTTPError(.internalServerError, detail: "response body larger than \(maxBytes) bytes")
    }
}

/// What a producer writes into: the connection, or memory when a body is collected.
protocol ResponseBodySink: AnyObject, Sendable {
    func write(_ bytes: [UInt8]) async throws
    func setTrailers(_ trailers: HTTPFields) async throws
}

/// Where a ``ResponseBody`` producer writes its body.
public struct ResponseBodyWriter: Sendable {
    let sink: any ResponseBodySink

    /// Sends `bytes` as the next part of the body.
    ///
    /// Suspends while the client has not taken the bytes written before (above the connection's
    /// write high-water mark), so the producer runs at the client's pace.
    ///
    /// - Throws: ``ResponseBodyError`` when the client is gone, the body passes its declared length,
    ///   or trailers were already written.
    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        try await sink.write(bytes)
    }

    /// Sends `text` as UTF-8.
    public func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }

    /// Ends a chunked body with trailer fields (such as a checksum computed while writing); no
    /// write may follow. Ignored for a body of known length or to an HTTP/1.0 client, which cannot
    /// carry trailers.
    public func writeTrailers(_ trailers: HTTPFields) async throws {
        try await sink.setTrailers(trailers)
    }
}

/// Why a write to a response body failed.
public struct ResponseBodyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for logs.
    public let message: String

    /// The client closed the connection (or it failed) before the body was complete.
    public static let clientDisconnected = ResponseBodyError(
        message: "the client is gone; the response body cannot be sent")
    /// A write came after ``ResponseBodyWriter/writeTrailers(_:)``.
    public static let writeAfterTrailers = ResponseBodyError(message: "a write after the trailers")

    static func lengthMismatch(declared: Int, written: Int) -> ResponseBodyError {
        ResponseBodyError(message: "the body declared \(declared) bytes but its producer wrote \(written)")
    }

    public var description: String { message }
}

/// Collects a producer's writes in memory.
final class CollectingBodySink: ResponseBodySink {
    private let limit: Int
    private let state = Locked<(bytes: [UInt8], trailersSet: Bool)>(([], false))

    init(limit: Int) { self.limit = limit }

    func write(_ bytes: [UInt8]) async throws {
        try state.withLock { state in
            guard !state.trailersSet else { throw ResponseBodyError.writeAfterTrailers }
            guard state.bytes.count + bytes.count <= limit else { throw ResponseBody.tooLarge(limit) }
            state.bytes.append(contentsOf: bytes)
        }
    }

    func setTrailers(_ trailers: HTTPFields) async throws {
        state.withLock { $0.trailersSet = true }
    }

    func finish(expectedLength: Int?) throws -> [UInt8] {
        let bytes = state.withLock { $0.bytes }
        if let expectedLength, expectedLength != bytes.count {
            throw ResponseBodyError.lengthMismatch(declared: expectedLength, written: bytes.count)
        }
        return bytes
    }
}
