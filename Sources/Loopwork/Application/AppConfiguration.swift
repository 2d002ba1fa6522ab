public import LoopworkHTTP

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
    /// Limits on what a client may send, in the codec's own type. A request past a limit on its head or
    /// chunk lines is answered with the limit's status (414, 431 or 400), the reason as `{"detail": …}`,
    /// and its connection closes. `maxBodySize` is applied by the body readers instead, so that a route
    /// can raise it: the whole-body extractors (``RawBody``, ``JSONBody``) and an unraised
    /// ``RequestBody`` throw ``HTTPError`` 413 Content Too Large past it, and a streaming route sets its
    /// own with ``RequestBody/withLimit(_:)``.
    public var limits: HTTPParserLimits
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
        limits: HTTPParserLimits = .default,
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
