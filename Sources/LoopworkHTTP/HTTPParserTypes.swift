public import HTTPTypes

/// Bounds on what one request may make the parser hold or accept; each limit has its ``HTTPParseError/Code``,
/// whose status a server answers with.
///
/// The defaults are safe for a public server. Lengths are in bytes and exclude line terminators, except where noted.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Longest request line (method, target and version, without CRLF); longer ones fail with
    /// ``HTTPParseError/Code/requestLineTooLong`` (414 URI Too Long).
    public var maxRequestLineLength: Int
    /// Largest field section (every field line with its CRLF, without the final empty line), likewise for
    /// trailers; larger ones fail with ``HTTPParseError/Code/headerSectionTooLarge`` (431).
    public var maxHeaderSectionSize: Int
    /// Most field lines in the head (and in trailers); more fail with ``HTTPParseError/Code/tooManyFields`` (431).
    public var maxFieldCount: Int
    /// Largest body; a Content-Length above it fails at the head, a chunked body when its total passes it, with
    /// ``HTTPParseError/Code/bodyTooLarge`` (413). A server that lets each route choose its own body limit
    /// gives its parser `Int.max` here and applies the limit as the body is read.
    public var maxBodySize: Int
    /// Longest chunk extension (the bytes after the chunk size, before CRLF); longer ones fail with
    /// ``HTTPParseError/Code/chunkExtensionTooLong`` (400).
    public var maxChunkExtensionLength: Int

    /// Creates limits; every parameter defaults to the value of ``HTTPParserLimits/default``.
    public init(
        maxRequestLineLength: Int = 8 * 1024,
        maxHeaderSectionSize: Int = 16 * 1024,
        maxFieldCount: Int = 100,
        maxBodySize: Int = 8 * 1024 * 1024,
        maxChunkExtensionLength: Int = 1024
    ) {
        self.maxRequestLineLength = maxRequestLineLength
        self.maxHeaderSectionSize = maxHeaderSectionSize
        self.maxFieldCount = maxFieldCount
        self.maxBodySize = maxBodySize
        self.maxChunkExtensionLength = maxChunkExtensionLength
    }

    /// 8 KiB request line, 16 KiB field section, 100 fields, 8 MiB body, 1 KiB chunk extension.
    public static let `default` = HTTPParserLimits()
}

/// An HTTP/1.x protocol version as it appears in the request line.
public struct HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    /// The digit before the dot.
    public var major: Int
    /// The digit after the dot.
    public var minor: Int

    /// Creates a version from its two digits.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// HTTP/1.0: no keep-alive unless asked for, no chunked coding.
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    /// HTTP/1.1: keep-alive by default, Host required.
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    /// The version as written on the wire, e.g. `HTTP/1.1`.
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// How the body of a request is delimited (RFC 9112 §6).
public enum HTTPBodyFraming: Sendable, Equatable {
    /// No body: neither Content-Length nor Transfer-Encoding was sent (a request then has an empty body).
    case none
    /// Exactly this many bytes follow the head.
    case contentLength(Int)
    /// The body uses the chunked transfer coding.
    case chunked
}

/// The parsed head of one request.
public struct HTTPRequestHead: Sendable {
    /// Method, authority (from Host, or from an absolute-form target), path and fields in the order received; scheme is nil.
    ///
    /// The path is the target as sent for origin-form, the path and query of an absolute-form target, `*` for
    /// asterisk-form and the authority for CONNECT.
    public var request: HTTPRequest
    /// The protocol version of the request line.
    public var version: HTTPVersion
    /// The raw request-target as sent.
    public var target: String
    /// Whether the connection may stay open after this request (1.1 unless `Connection: close`; 1.0 only with keep-alive).
    public var keepAlive: Bool
    /// The client sent `Expect: 100-continue` (in HTTP/1.1) and waits for an interim response before the body.
    public var expectsContinue: Bool
    /// The Upgrade field value, surfaced for the server to decide on; the parser keeps parsing HTTP/1.1.
    public var upgrade: String?
    /// How the body that follows is delimited.
    public var framing: HTTPBodyFraming

    /// Creates a head; the parser builds these, tests and servers may too.
    public init(
        request: HTTPRequest,
        version: HTTPVersion,
        target: String,
        keepAlive: Bool,
        expectsContinue: Bool,
        upgrade: String?,
        framing: HTTPBodyFraming
    ) {
        self.request = request
        self.version = version
        self.target = target
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
        self.upgrade = upgrade
        self.framing = framing
    }
}

/// What the parser reports while it consumes bytes, in wire order.
public enum HTTPParserEvent {
    /// The head of a request is complete.
    case head(HTTPRequestHead)
    /// A slice of the body, pointing into the input; valid only during the callback.
    case body(UnsafeRawBufferPointer)
    /// The message is complete; chunked messages may carry trailer fields.
    ///
    /// Trailers are kept apart from the head's fields and never include a field RFC 9110 §6.5.1 keeps out of
    /// trailers (`Content-Length`, `Host`, `Authorization`, ...): the parser discards those, as RFC 9112 §7.1.2
    /// allows, and lists their names as received, in wire order, in `discardedTrailerFields` (empty for almost
    /// every message) so a server can log the drop. Their values are not kept. `trailers` is nil when no field
    /// is left to deliver.
    case end(trailers: HTTPFields?, discardedTrailerFields: [HTTPField.Name] = [])
}
