import LoopworkHTTP

/// How an ``App`` listens and protects itself. Every value has a safe default.
public struct AppConfiguration: Sendable {
    /// The address to bind: `"127.0.0.1"`, `"0.0.0.0"`, `"::"`, `"::1"`.
    public var host: String
    /// The port to bind; 0 picks a free one (see ``RunningApp/port``).
    public var port: Int
    /// Event loops, each on its own thread with its own listener on the shared port; `nil` means
    /// one per CPU this process may use (its affinity mask, so containers and `taskset` count).
    public var workers: Int?
    /// The listen backlog.
    public var backlog: Int32
    /// Limits on every request: its head and chunk lines as they are parsed, its body as it is read.
    public var limits: RequestLimits
    /// How long a client may take to send a complete request head; slower clients are cut off.
    public var headerReadTimeout: Duration
    /// How long a keep-alive connection may sit idle between requests.
    public var idleTimeout: Duration
    /// The longest a handler may take before the request is answered 503; `nil` for no limit.
    public var requestTimeout: Duration?
    /// At shutdown, how long in-flight requests get to finish before their connections close.
    public var shutdownGracePeriod: Duration
    /// At shutdown, how long an idle keep-alive connection stays open: a request its client sent
    /// meanwhile (perhaps before it could know of the shutdown) is still answered, with
    /// `Connection: close`. Connections that owe a response close once it is written, whatever
    /// this is; nothing stays open past ``shutdownGracePeriod``.
    public var shutdownDrainWindow: Duration
    /// Open connections per worker; further connections are closed at once, with a log line.
    public var maxConnectionsPerWorker: Int
    /// Unsent response bytes above which the server stops reading from that connection, and a
    /// streamed body's `write` waits until the client has taken them.
    public var writeHighWaterMark: Int
    /// Received request-body bytes not yet read by the handler above which the server stops
    /// reading from the client; it reads again once a quarter of this is left.
    public var requestBodyHighWaterMark: Int
    /// How much of a body the handler did not read (it answered first, say with a 401) the
    /// server reads and drops to keep the connection; a longer rest closes the connection.
    public var unreadBodyDrainLimit: Int
    /// The `Server` header value, or `nil` to send none.
    public var serverName: String?

    /// Creates a configuration; every parameter has a default.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        workers: Int? = nil,
        backlog: Int32 = 1024,
        limits: RequestLimits = RequestLimits(),
        headerReadTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(60),
        requestTimeout: Duration? = nil,
        shutdownGracePeriod: Duration = .seconds(10),
        shutdownDrainWindow: Duration = .milliseconds(500),
        maxConnectionsPerWorker: Int = 10_000,
        writeHighWaterMark: Int = 256 * 1024,
        requestBodyHighWaterMark: Int = 256 * 1024,
        unreadBodyDrainLimit: Int = 256 * 1024,
        serverName: String? = nil
    ) {
        self.host = host
        self.port = port
        self.workers = workers.map { max(1, $0) }
        self.backlog = backlog
        self.limits = limits
        self.headerReadTimeout = headerReadTimeout
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.shutdownGracePeriod = shutdownGracePeriod
        self.shutdownDrainWindow = max(.zero, shutdownDrainWindow)
        self.maxConnectionsPerWorker = maxConnectionsPerWorker
        self.writeHighWaterMark = max(1, writeHighWaterMark)
        self.requestBodyHighWaterMark = max(1, requestBodyHighWaterMark)
        self.unreadBodyDrainLimit = max(0, unreadBodyDrainLimit)
        self.serverName = serverName
    }
}

/// Limits on what a client may send, each documented with the answer a request past it gets.
///
/// A request past a limit the parser enforces (all but ``maxBodySize``) is answered with the status named,
/// the reason as `{"detail": …}`, and its connection closes. ``maxBodySize`` is applied by the body readers
/// instead, so that a route can raise it. Lengths are in bytes and exclude the line's CRLF.
public struct RequestLimits: Sendable, Equatable {
    /// Every limit, in the codec's own type so none can be dropped on the way to the parser; the server
    /// hands the parser these with no body limit (see `WorkerContext`).
    var parser: HTTPParserLimits

    /// Longest request line (method, target and version); a longer one is answered 414 URI Too Long.
    public var maxRequestLineLength: Int {
        get { parser.maxRequestLineLength }
        set { parser.maxRequestLineLength = newValue }
    }
    /// Largest header section (every field line with its CRLF), and likewise trailer section; a larger one
    /// is answered 431 Request Header Fields Too Large.
    public var maxHeaderSectionSize: Int {
        get { parser.maxHeaderSectionSize }
        set { parser.maxHeaderSectionSize = newValue }
    }
    /// Most field lines in the head (and in trailers); more are answered 431 Request Header Fields Too Large.
    public var maxFieldCount: Int {
        get { parser.maxFieldCount }
        set { parser.maxFieldCount = newValue }
    }
    /// The largest body the whole-body extractors (``RawBody``, ``JSONBody``) and an unraised
    /// ``RequestBody`` accept; past it a read throws ``HTTPError`` 413 Content Too Large. A streaming
    /// route raises its own with ``RequestBody/withLimit(_:)``.
    public var maxBodySize: Int {
        get { parser.maxBodySize }
        set { parser.maxBodySize = newValue }
    }
    /// Longest extension of one chunk-size line of a chunked body (the bytes after the size, before CRLF);
    /// a longer one is answered 400 Bad Request.
    public var maxChunkExtensionLength: Int {
        get { parser.maxChunkExtensionLength }
        set { parser.maxChunkExtensionLength = newValue }
    }

    /// Creates limits; the defaults (8 KiB request line, 16 KiB header section, 100 fields, 8 MiB body,
    /// 1 KiB chunk extension) are the codec's and suit a public API server.
    public init(
        maxRequestLineLength: Int = 8 * 1024, maxHeaderSectionSize: Int = 16 * 1024,
        maxFieldCount: Int = 100, maxBodySize: Int = 8 * 1024 * 1024, maxChunkExtensionLength: Int = 1024
    ) {
        parser = HTTPParserLimits(
            maxRequestLineLength: maxRequestLineLength, maxHeaderSectionSize: maxHeaderSectionSize,
            maxFieldCount: maxFieldCount, maxBodySize: maxBodySize, maxChunkExtensionLength: maxChunkExtensionLength)
    }
}
