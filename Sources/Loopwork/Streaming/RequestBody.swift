/// The body of a request as a stream of byte chunks, in the order the client sent them.
///
/// A handler that declares `RequestBody` runs as soon as the request head is parsed and reads the
/// body while it arrives; the connection stops reading from the client while more than
/// ``AppConfiguration/requestBodyHighWaterMark`` bytes are received but not yet read, so a fast
/// uploader cannot make the server buffer without bound.
///
/// ```swift
/// app.post("/upload") { (body: RequestBody) in
///     var count = 0
///     for try await chunk in body.withLimit(8 << 30) { count += chunk.count }
///     return ["bytes": count]
/// }
/// ```
///
/// Reading is bounded by ``limit`` (`maxBodySize` of ``AppConfiguration/limits`` unless
/// raised with ``withLimit(_:)``): a body that passes it throws ``HTTPError`` 413. A client that asked for
/// `Expect: 100-continue` is told to send its body when the handler first reads it, not before;
/// a handler that answers without reading (a 401, say) has the rest drained or the connection
/// closed, never parsed as the next request. A client that disconnects mid-body makes the read
/// throw ``RequestBodyError/clientDisconnected``.
///
/// The whole-body extractors (``RawBody``, ``JSONBody``) collect from this stream; the collected
/// bytes are kept, so several of them in one handler see the same body. A body that was still
/// arriving when the handler started can be iterated once; one that came whole with its head is
/// bytes in memory and can be read again. Collect it to see it more than once either way.
public struct RequestBody: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    enum Storage: Sendable {
        case bytes([UInt8])
        case stream(InboundBody)
    }

    let storage: Storage
    /// The most bytes this body may deliver before a read throws 413.
    public let limit: Int
    /// The length the client declared with `Content-Length`; `nil` for a chunked body.
    public let declaredLength: Int?

    init(storage: Storage, limit: Int, declaredLength: Int?) {
        self.storage = storage
        self.limit = limit
        self.declaredLength = declaredLength
    }

    /// A complete body already in memory, such as a test's.
    public init(bytes: [UInt8]) {
        self.init(storage: .bytes(bytes), limit: Int.max, declaredLength: bytes.count)
    }

    /// No body.
    public static let empty = RequestBody(bytes: [])

    /// The same body with another size limit, for a route that takes larger (or only smaller)
    /// bodies than the app's (`maxBodySize` of ``AppConfiguration/limits``).
    public func withLimit(_ maxBytes: Int) -> RequestBody {
        RequestBody(storage: storage, limit: Swift.max(0, maxBytes), declaredLength: declaredLength)
    }

    /// Reads the whole body into memory.
    ///
    /// - Parameter maxBytes: The most bytes accepted; ``limit`` when `nil`.
    /// - Throws: ``HTTPError`` 413 past the limit, ``RequestBodyError`` when the client is gone or
    ///   the stream was already iterated.
    public func collect(upTo maxBytes: Int? = nil) async throws -> [UInt8] {
        let maxBytes = maxBytes ?? limit
        switch storage {
        case .bytes(let bytes):
            guard bytes.count <= maxBytes else { throw InboundBody.tooLarge(maxBytes) }
            return bytes
        case .stream(let stream):
            return try await stream.collect(limit: maxBytes)
        }
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(storage: storage, limit: limit)
    }

    /// Reads the chunks of a ``RequestBody``.
    public struct Iterator: AsyncIteratorProtocol {
        private let storage: Storage
        private let limit: Int
        /// For bytes in memory: they were returned. For a stream: the first read happened.
        private var deliveredBytes = false

        init(storage: Storage, limit: Int) {
            self.storage = storage
            self.limit = limit
        }

        /// The next chunk, or `nil` once the body is complete.
        public mutating func next() async throws -> [UInt8]? {
            switch storage {
            case .bytes(let bytes):
                guard !deliveredBytes, !bytes.isEmpty else { return nil }
                deliveredBytes = true
                guard bytes.count <= limit else { throw InboundBody.tooLarge(limit) }
                return bytes
            case .stream(let stream):
                if !deliveredBytes {
                    deliveredBytes = true
                    // A whole-body extractor read the stream first: its bytes are the body.
                    if let collected = stream.collectedBytes {
                        guard collected.count <= limit else { throw InboundBody.tooLarge(limit) }
                        return collected.isEmpty ? nil : collected
                    }
                }
                return try await stream.next(limit: limit)
            }
        }
    }
}

extension RequestBody: RequestDependency {
    /// The request's body stream.
    public static func resolve(from request: Request) async throws -> RequestBody { request.body }
}

/// Why reading a request body failed.
public struct RequestBodyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for logs.
    public let message: String

    /// The client closed the connection (or it failed) before the body was complete.
    public static let clientDisconnected = RequestBodyError(
        message: "the client closed the connection before the request body was complete")
    /// The body was already read by another iterator.
    public static let alreadyConsumed = RequestBodyError(
        message: "the request body stream was already read; collect it once and share the bytes")
    /// The response was already sent, so the rest of the body was discarded.
    public static let discarded = RequestBodyError(
        message: "the response was sent before the request body was read; the rest was discarded")
    /// The request was refused (malformed framing, the server shutting down) while its body arrived.
    public static let aborted = RequestBodyError(message: "the request was aborted while its body was read")

    public var description: String { message }
}
