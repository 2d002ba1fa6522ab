public import HTTPTypes

/// How long the body of a response is, which decides its framing fields.
public enum HTTPResponseBodyLength: Sendable, Equatable {
    /// Exactly this many bytes: `Content-Length`.
    case known(Int)
    /// Unknown in advance: `Transfer-Encoding: chunked` (HTTP/1.1 only).
    case chunked
}

/// Writes HTTP/1.1 responses into byte buffers: status line, fields, framing and chunks.
///
/// It chooses the framing fields for the caller and adds Date (cached) and Server, so a handler only sets its own
/// fields. The status line always says HTTP/1.1, the highest version we speak (RFC 9110 §6.2).
public struct HTTPResponseSerializer: Sendable {
    private let serverName: String?
    private let dateCache: HTTPDateCache

    /// Creates a serializer.
    /// - Parameters:
    ///   - serverName: The value of the Server field added to every response, or nil for none.
    ///   - dateCache: The cache the Date field comes from; share one per process.
    public init(serverName: String? = nil, dateCache: HTTPDateCache = HTTPDateCache()) {
        self.serverName = serverName
        self.dateCache = dateCache
    }

    /// Appends the status line, the fields and the empty line.
    ///
    /// Adds Content-Length (for `.known`) or `Transfer-Encoding: chunked` (for `.chunked`) unless the response has
    /// one; adds Date and Server unless present; adds `Connection: close` when `!keepAlive` and
    /// `Connection: keep-alive` for an HTTP/1.0 keep-alive. For HEAD the framing fields describe the body a GET
    /// would have had. 1xx and 204 carry no framing fields, 304 only those the caller set. An HTTP/1.0 peer cannot
    /// receive chunked coding: then no framing field is written and the connection is marked close, so the caller
    /// must write the body raw and close.
    ///
    /// Status and fields come apart rather than as an `HTTPResponse`, whose status lives in an
    /// allocated box: the framework keeps them apart and would otherwise build one per response.
    public func writeHead(
        status: HTTPResponse.Status, headerFields: HTTPFields, bodyLength: HTTPResponseBodyLength, version: HTTPVersion,
        keepAlive: Bool, into buffer: inout [UInt8]
    ) {
        let code = status.code
        let isInterim = code < 200
        let forbidsFraming = isInterim || code == 204
        writeStatusLine(status, into: &buffer)
        var hasFraming = false
        var hasDate = false
        var hasServer = false
        var hasConnection = false
        for field in headerFields {
            let name = field.name
            if name == .contentLength || name == .transferEncoding {
                if forbidsFraming { continue }
                hasFraming = true
            } else if name == .date {
                hasDate = true
            } else if name == .server {
                hasServer = true
            } else if name == .connection {
                hasConnection = true
            }
            Self.write(field, into: &buffer)
        }
        var keepAlive = keepAlive
        if !forbidsFraming && code != 304 && !hasFraming {
            switch bodyLength {
            case .known(let length):
                Self.append("Content-Length: ", into: &buffer)
                Self.appendDecimal(max(0, length), into: &buffer)
                Self.appendCRLF(into: &buffer)
            case .chunked:
                if version == .http1_0 {
                    keepAlive = false
                } else {
                    Self.append("Transfer-Encoding: chunked\r\n", into: &buffer)
                }
            }
        }
        if !isInterim {
            if !hasDate {
                Self.append("Date: ", into: &buffer)
                Self.append(dateCache.current, into: &buffer)
                Self.appendCRLF(into: &buffer)
            }
            if !hasServer, let serverName {
                Self.append("Server: ", into: &buffer)
                Self.append(serverName, into: &buffer)
                Self.appendCRLF(into: &buffer)
            }
            if !hasConnection {
                if !keepAlive {
                    Self.append("Connection: close\r\n", into: &buffer)
                } else if version == .http1_0 {
                    Self.append("Connection: keep-alive\r\n", into: &buffer)
                }
            }
        }
        Self.appendCRLF(into: &buffer)
    }

    /// Appends the head and the whole body, so a small response goes out in one write; no body for HEAD, 204, 304.
    public func writeResponse(
        status: HTTPResponse.Status, headerFields: HTTPFields, body: some Collection<UInt8>, version: HTTPVersion,
        keepAlive: Bool, isHeadRequest: Bool, into buffer: inout [UInt8]
    ) {
        let count = body.count
        buffer.reserveCapacity(buffer.count + 256 + count)
        writeHead(
            status: status, headerFields: headerFields, bodyLength: .known(count), version: version,
            keepAlive: keepAlive, into: &buffer)
        let code = status.code
        if !isHeadRequest && code >= 200 && code != 204 && code != 304 {
            buffer.append(contentsOf: body)
        }
    }

    /// Appends an interim (1xx) response with no fields, e.g. `HTTP/1.1 100 Continue`.
    public func writeInterim(_ status: HTTPResponse.Status, into buffer: inout [UInt8]) {
        writeStatusLine(status, into: &buffer)
        Self.appendCRLF(into: &buffer)
    }

    /// Appends one chunk: hexadecimal size, CRLF, the bytes, CRLF. Empty input writes nothing, since an empty chunk
    /// would end the body.
    public func writeChunk(_ bytes: some Collection<UInt8>, into buffer: inout [UInt8]) {
        let count = bytes.count
        guard count > 0 else { return }
        Self.appendHex(count, into: &buffer)
        Self.appendCRLF(into: &buffer)
        buffer.append(contentsOf: bytes)
        Self.appendCRLF(into: &buffer)
    }

    /// The line that opens a chunk of `count` bytes (hexadecimal size, CRLF), for a caller that
    /// writes the chunk's data and ``chunkTerminator`` beside it instead of copying them together.
    public func chunkHeader(count: Int) -> [UInt8] {
        var header: [UInt8] = []
        header.reserveCapacity(18)
        Self.appendHex(max(0, count), into: &header)
        Self.appendCRLF(into: &header)
        return header
    }

    /// The CRLF that closes a chunk's data.
    public static let chunkTerminator: [UInt8] = [ByteClass.cr, ByteClass.lf]

    /// Appends the last chunk, the trailer fields if any, and the final CRLF.
    public func writeFinalChunk(trailers: HTTPFields? = nil, into buffer: inout [UInt8]) {
        Self.append("0\r\n", into: &buffer)
        if let trailers {
            for field in trailers { Self.write(field, into: &buffer) }
        }
        Self.appendCRLF(into: &buffer)
    }

    private func writeStatusLine(_ status: HTTPResponse.Status, into buffer: inout [UInt8]) {
        Self.append("HTTP/1.1 ", into: &buffer)
        let code = min(max(status.code, 0), 999)
        buffer.append(ByteClass.zero &+ UInt8(truncatingIfNeeded: code / 100))
        buffer.append(ByteClass.zero &+ UInt8(truncatingIfNeeded: (code / 10) % 10))
        buffer.append(ByteClass.zero &+ UInt8(truncatingIfNeeded: code % 10))
        buffer.append(ByteClass.sp)
        Self.append(status.reasonPhrase, into: &buffer)
        Self.appendCRLF(into: &buffer)
    }

    private static func write(_ field: HTTPField, into buffer: inout [UInt8]) {
        append(field.name.rawName, into: &buffer)
        buffer.append(ByteClass.colon)
        buffer.append(ByteClass.sp)
        field.withUnsafeBytesOfValue { buffer.append(contentsOf: $0) }
        appendCRLF(into: &buffer)
    }

    @inline(__always)
    private static func append(_ string: String, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: string.utf8)
    }

    @inline(__always)
    private static func appendCRLF(into buffer: inout [UInt8]) {
        buffer.append(ByteClass.cr)
        buffer.append(ByteClass.lf)
    }

    private static func appendDecimal(_ value: Int, into buffer: inout [UInt8]) {
        appendDigits(value, radix: 10, into: &buffer)
    }

    private static func appendHex(_ value: Int, into buffer: inout [UInt8]) {
        appendDigits(value, radix: 16, into: &buffer)
    }

    private static func appendDigits(_ value: Int, radix: Int, into buffer: inout [UInt8]) {
        let digits: StaticString = "0123456789abcdef"
        var divisor = 1
        while value / divisor >= radix { divisor &*= radix }
        while divisor > 0 {
            buffer.append(digits.utf8Start[(value / divisor) % radix])
            divisor /= radix
        }
    }
}
