import HTTPTypes

/// Incremental HTTP/1.1 request parser (RFC 9112); one per connection.
///
/// Feed it whatever the connection delivers, in slices of any size: it reports each request's head, body slices
/// and end, then carries on with pipelined requests. Between calls it keeps at most one partial head or trailer
/// section (bounded by ``HTTPParserLimits``). A request it refuses puts it in a failed state for good, because
/// after a framing error the rest of the connection cannot be trusted.
///
/// A trailer field that RFC 9110 §6.5.1 keeps out of trailers (framing, routing, request modifiers,
/// authentication, content handling: `Content-Length`, `Host`, `Authorization`, `If-Match`, ...) is discarded, as
/// RFC 9112 §7.1.2 allows, so no consumer can mistake it for a header; the end event names what was dropped.
public struct HTTPRequestParser: Sendable {
    private enum State {
        case head
        case body(remaining: Int)
        case chunked
        case trailers
        case failed(HTTPParseError)
    }

    private let limits: HTTPParserLimits
    private var state = State.head
    private var headScanner = HTTPSectionScanner(isHead: true)
    private var trailerScanner = HTTPSectionScanner(isHead: false)
    private var chunked = HTTPChunkedDecoder()

    /// Creates a parser that enforces `limits`.
    public init(limits: HTTPParserLimits = .default) {
        self.limits = limits
    }

    /// Between messages with no partial data: the connection may be closed cleanly or timed out as idle.
    public var isIdle: Bool {
        if case .head = state { return headScanner.isEmpty }
        return false
    }

    /// Part of a request line or field section has arrived but not all of it (for header-read timeouts).
    public var isInHead: Bool {
        if case .head = state { return !headScanner.isEmpty }
        return false
    }

    /// Parses as much of `bytes` as possible, calling `onEvent` for each event in order.
    ///
    /// Bytes after a complete message belong to the next (pipelined) one and are parsed in the same call.
    /// Errors thrown by `onEvent` are rethrown unchanged (and the parser then refuses further input); parse errors
    /// are ``HTTPParseError``, and after one every later call throws the same error.
    /// - Parameters:
    ///   - bytes: The next bytes received on the connection.
    ///   - onEvent: Called for each head, body slice and end of message; body slices are valid only during the call.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer, onEvent: (HTTPParserEvent) throws -> Void) throws {
        if case .failed(let error) = state { throw error }
        var index = 0
        let end = bytes.count
        while index < end {
            switch state {
            case .head:
                let completion: HTTPSectionScanner.Completion?
                let head: HTTPRequestHead
                do {
                    completion = try headScanner.scan(bytes, from: index, limits: limits)
                    guard let completion else { return }
                    (head, index) = try decodeHead(bytes, completion)
                } catch {
                    state = .failed(error)
                    throw error
                }
                switch head.framing {
                case .none, .contentLength(0):
                    state = .head
                    try deliver(.head(head), onEvent)
                    try deliver(.end(trailers: nil), onEvent)
                case .contentLength(let length):
                    state = .body(remaining: length)
                    try deliver(.head(head), onEvent)
                case .chunked:
                    state = .chunked
                    try deliver(.head(head), onEvent)
                }
            case .body(let remaining):
                let count = min(remaining, end &- index)
                let slice = UnsafeRawBufferPointer(rebasing: bytes[index..<index &+ count])
                index &+= count
                if count == remaining {
                    state = .head
                    try deliver(.body(slice), onEvent)
                    try deliver(.end(trailers: nil), onEvent)
                } else {
                    state = .body(remaining: remaining &- count)
                    try deliver(.body(slice), onEvent)
                }
            case .chunked:
                let output: HTTPChunkedDecoder.Output
                do {
                    output = try chunked.advance(bytes, from: index, limits: limits)
                } catch {
                    state = .failed(error)
                    throw error
                }
                switch output {
                case .data(let start, let stop):
                    index = stop
                    try deliver(.body(UnsafeRawBufferPointer(rebasing: bytes[start..<stop])), onEvent)
                case .lastChunk(let next):
                    index = next
                    state = .trailers
                case .needMore:
                    return
                }
            case .trailers:
                let trailers: HTTPFields?
                let discarded: [HTTPField.Name]
                do {
                    guard let completion = try trailerScanner.scan(bytes, from: index, limits: limits) else { return }
                    (trailers, discarded, index) = try decodeTrailers(bytes, completion)
                } catch {
                    state = .failed(error)
                    throw error
                }
                state = .head
                try deliver(.end(trailers: trailers, discardedTrailerFields: discarded), onEvent)
            case .failed(let error):
                throw error
            }
        }
    }

    @inline(__always)
    private mutating func deliver(_ event: HTTPParserEvent, _ onEvent: (HTTPParserEvent) throws -> Void) throws {
        do {
            try onEvent(event)
        } catch {
            state = .failed(HTTPParseError(.abortedByHandler))
            throw error
        }
    }

    private mutating func decodeHead(
        _ bytes: UnsafeRawBufferPointer, _ completion: HTTPSectionScanner.Completion
    ) throws(HTTPParseError) -> (HTTPRequestHead, Int) {
        let limits = self.limits
        switch completion {
        case .inInput(let start, let end):
            return (try HTTPHeadDecoder.decode(bytes, start: start, end: end, limits: limits), end)
        case .buffered(let end):
            let result = headScanner.buffer.withUnsafeBytes { buffer in
                Result { () throws(HTTPParseError) in
                    try HTTPHeadDecoder.decode(buffer, start: 0, end: buffer.count, limits: limits)
                }
            }
            headScanner.reset()
            return (try result.get(), end)
        }
    }

    /// The trailers to deliver, the names of the forbidden ones dropped, and the input index after the section.
    private mutating func decodeTrailers(
        _ bytes: UnsafeRawBufferPointer, _ completion: HTTPSectionScanner.Completion
    ) throws(HTTPParseError) -> (HTTPFields?, [HTTPField.Name], Int) {
        let limits = self.limits
        func decode(
            _ buffer: UnsafeRawBufferPointer, _ start: Int, _ end: Int
        ) throws(HTTPParseError) -> (kept: HTTPFields?, discarded: [HTTPField.Name]) {
            guard end &- start > 2 else { return (nil, []) }
            var section = HTTPFieldSectionDecoder()
            try section.decode(buffer, from: start, to: end &- 2, limits: limits, interpret: false)
            return ForbiddenTrailerFields.partition(section.fields)
        }
        switch completion {
        case .inInput(let start, let end):
            let (kept, discarded) = try decode(bytes, start, end)
            return (kept, discarded, end)
        case .buffered(let end):
            let result = trailerScanner.buffer.withUnsafeBytes { buffer in
                Result { () throws(HTTPParseError) in try decode(buffer, 0, buffer.count) }
            }
            trailerScanner.reset()
            let (kept, discarded) = try result.get()
            return (kept, discarded, end)
        }
    }
}
