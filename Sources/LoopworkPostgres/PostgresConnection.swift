import CLibPQ
public import LoopworkUV

#if canImport(Glibc)
    import Glibc
#endif

/// One connection to a PostgreSQL server, driven by an event loop: libpq in non-blocking mode,
/// its socket watched by a ``LoopPoll``.
///
/// The actor runs on its loop's thread, the one thread that touches libpq's connection object.
/// Statements are queued and run one after another, in call order; each has its parameters bound
/// by the server (`PQsendQueryParams`), never spliced into the SQL. Call ``close()`` when done:
/// a connection dropped while open closes itself on its loop.
public actor PostgresConnection {
    /// The loop whose thread runs this connection.
    public nonisolated let loop: EventLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    private let configuration: PostgresConfiguration
    private let libpq: LibPQ
    /// libpq's `PGconn *`; `nil` once closed.
    private var connection: OpaquePointer?
    private var poll: LoopPoll?
    private var timer: LoopTimer?
    private var connectWaiter: CheckedContinuation<Void, any Error>?
    private var statements: [Statement] = []
    /// The statement whose results are arriving, and what they brought so far.
    private var running: (statement: Statement, rows: PostgresRows?, error: PostgresError?)?
    /// Why the connection is unusable; `nil` while it is open.
    private var failure: PostgresError?
    private var listeners: [Int: AsyncStream<PostgresNotification>.Continuation] = [:]
    private var nextListener = 0

    private struct Statement {
        let sql: String
        let parameters: [String?]
        /// A script of several statements, without parameters (`PQsendQuery`).
        let isScript: Bool
        let waiter: CheckedContinuation<PostgresRows, any Error>
    }

    private init(configuration: PostgresConfiguration, libpq: LibPQ, loop: EventLoop) {
        self.configuration = configuration
        self.libpq = libpq
        self.loop = loop
    }

    /// Connects to the server `configuration` names.
    ///
    /// - Throws: ``PostgresError`` of kind `connection` (refused, authentication failed, an
    ///   unknown database, a malformed connection string) or `timedOut`.
    public static func connect(_ configuration: PostgresConfiguration, on loop: EventLoop) async throws
        -> PostgresConnection
    {
        let connection = PostgresConnection(configuration: configuration, libpq: try LibPQ.shared.get(), loop: loop)
        try await connection.open()
        return connection
    }

    /// Whether the connection is open: not closed, and not broken.
    public var isOpen: Bool { failure == nil }

    /// Runs one statement with `$1`, `$2`… bound to `parameters` (`nil` binds SQL `NULL`).
    ///
    /// - Returns: The rows it returned (none for a command), with the affected row count.
    /// - Throws: ``PostgresError``: kind `server` with its SQLSTATE when the server rejects the
    ///   statement; `connection`, `timedOut` or `closed` when the connection is gone.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresParameter)?] = []) async throws -> PostgresRows {
        try await enqueue(sql: sql, parameters: parameters.map { $0?.postgresText }, isScript: false)
    }

    /// Runs a script of several `;`-separated statements without parameters, such as a schema
    /// migration, as one implicit transaction unless it says otherwise.
    ///
    /// - Returns: The rows of its last statement.
    /// - Throws: ``PostgresError`` as ``query(_:_:)`` does, for the first statement that failed
    ///   (the rest are not run).
    @discardableResult
    public func execute(script: String) async throws -> PostgresRows {
        try await enqueue(sql: script, parameters: [], isScript: true)
    }

    /// Starts receiving `NOTIFY`s sent on `channel`; they arrive through ``notifications()``.
    public func listen(_ channel: String) async throws {
        try await query("LISTEN \(Self.quotedIdentifier(channel))")
    }

    /// Every notification on the channels this connection listens to, from now on. The stream
    /// ends when the connection closes or breaks; when its reader falls behind by more than
    /// `bufferLimit`, the oldest undelivered notifications are dropped (they are wake-up hints:
    /// read the state they announce from the database itself).
    public func notifications(bufferLimit: Int = 1024) -> AsyncStream<PostgresNotification> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: PostgresNotification.self, bufferingPolicy: .bufferingNewest(bufferLimit))
        guard failure == nil else {
            continuation.finish()
            return stream
        }
        let key = nextListener
        nextListener += 1
        listeners[key] = continuation
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            Task { await self.removeListener(key) }
        }
        return stream
    }

    /// Closes the connection; statements still queued fail with kind `closed`. Idempotent.
    public func close() {
        shutDown(PostgresError(.closed, message: "the connection was closed"))
    }

    /// `name` quoted as an SQL identifier (`"name"`, inner quotes doubled), for the few places
    /// SQL takes no parameter: channel names, schema names.
    public static func quotedIdentifier(_ name: String) -> String {
        "\"" + name.replacing("\"", with: "\"\"") + "\""
    }

    isolated deinit {
        // No statement waits here (a waiting caller holds the actor): only libpq's connection,
        // the socket's watcher and the listeners are left.
        shutDown(PostgresError(.closed, message: "the connection was released"))
    }

    // MARK: Connecting

    private func open() async throws {
        guard let connection = libpq.PQconnectStart(configuration.connectionString) else {
            throw PostgresError(.connection, message: "libpq could not allocate a connection")
        }
        self.connection = connection
        guard libpq.PQstatus(connection) != CONNECTION_BAD, libpq.PQsetnonblocking(connection, 1) == 0 else {
            let error = PostgresError(.connection, message: errorMessage())
            shutDown(error)
            throw error
        }
        // The server's notices ("already exists, skipping") only inform; libpq's default prints
        // them to stderr, unformatted, in the middle of the app's log.
        _ = libpq.PQsetNoticeProcessor(connection, { _, _ in }, nil)
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            connectWaiter = waiter
            startTimer(configuration.connectTimeout, "connecting took longer than \(configuration.connectTimeout)")
            // libpq's protocol: before the first PQconnectPoll, act as if it asked for writability.
            wait(for: .writable)
        }
    }

    private func advanceConnecting() {
        guard let connection else { return }
        switch libpq.PQconnectPoll(connection) {
        case PGRES_POLLING_READING:
            wait(for: .readable)
        case PGRES_POLLING_WRITING:
            wait(for: .writable)
        case PGRES_POLLING_OK:
            cancelTimer()
            wait(for: .readable)
            connectWaiter?.resume()
            connectWaiter = nil
        default:
            shutDown(PostgresError(.connection, message: errorMessage()))
        }
    }

    // MARK: Statements

    private func enqueue(sql: String, parameters: [String?], isScript: Bool) async throws -> PostgresRows {
        if let failure { throw failure }
        return try await withCheckedThrowingContinuation { waiter in
            statements.append(Statement(sql: sql, parameters: parameters, isScript: isScript, waiter: waiter))
            if running == nil { sendNext() }
        }
    }

    private func sendNext() {
        guard let connection, running == nil, !statements.isEmpty else { return }
        let statement = statements.removeFirst()
        let sent: Int32
        if statement.isScript {
            sent = libpq.PQsendQuery(connection, statement.sql)
        } else {
            sent = Self.withCStrings(statement.parameters) { values in
                libpq.PQsendQueryParams(connection, statement.sql, Int32(values.count), nil, values, nil, nil, 0)
            }
        }
        guard sent == 1 else {
            let error = PostgresError(.connection, message: errorMessage())
            statement.waiter.resume(throwing: error)
            shutDown(error)
            return
        }
        running = (statement, nil, nil)
        if let limit = configuration.statementTimeout {
            startTimer(limit, "the statement took longer than \(limit)")
        }
        flushOutput()
    }

    /// Hands libpq's buffered output to the socket, watching for writability while some is left.
    private func flushOutput() {
        guard let connection else { return }
        switch libpq.PQflush(connection) {
        case 0: wait(for: .readable)
        case 1: wait(for: [.readable, .writable])
        default: shutDown(PostgresError(.connection, message: errorMessage()))
        }
    }

    private func readInput() {
        guard let connection else { return }
        guard libpq.PQconsumeInput(connection) == 1 else {
            shutDown(PostgresError(.connection, message: errorMessage()))
            return
        }
        deliverNotifications()
        while running != nil, libpq.PQisBusy(connection) == 0 {
            guard let result = libpq.PQgetResult(connection) else {
                finishRunning()
                continue
            }
            take(result)
            libpq.PQclear(result)
        }
        if libpq.PQstatus(connection) == CONNECTION_BAD {
            shutDown(PostgresError(.connection, message: errorMessage()))
        }
    }

    private func take(_ result: OpaquePointer) {
        guard running != nil else { return }
        switch libpq.PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            running?.rows = rows(of: result)
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR:
            if running?.error == nil { running?.error = serverError(result) }
        default:
            // COPY and the streaming modes: never started by this client's statements.
            if running?.error == nil {
                let status = Self.text(libpq.PQresStatus(libpq.PQresultStatus(result)))
                running?.error = PostgresError(.server, message: "unsupported result: \(status)")
            }
        }
    }

    private func finishRunning() {
        guard let (statement, rows, error) = running else { return }
        running = nil
        cancelTimer()
        if let error {
            statement.waiter.resume(throwing: error)
        } else {
            statement.waiter.resume(returning: rows ?? PostgresRows(columns: [], values: [], affectedRows: 0))
        }
        sendNext()
    }

    private func deliverNotifications() {
        guard let connection else { return }
        while let notify = libpq.PQnotifies(connection) {
            let notification = PostgresNotification(
                channel: String(cString: notify.pointee.relname),
                payload: String(cString: notify.pointee.extra),
                senderProcessID: notify.pointee.be_pid)
            libpq.PQfreemem(notify)
            for listener in listeners.values { listener.yield(notification) }
        }
    }

    private func removeListener(_ key: Int) {
        listeners[key] = nil
    }

    // MARK: The socket, the timer, the end

    private func wait(for events: LoopPoll.Events) {
        guard let connection else { return }
        let socket = libpq.PQsocket(connection)
        guard socket >= 0 else {
            shutDown(PostgresError(.connection, message: errorMessage()))
            return
        }
        do {
            // libpq may open a new socket while connecting (another address, a retry without TLS).
            if poll?.socket != socket {
                poll?.close()
                poll = try LoopPoll.watching(socket: socket, on: loop) { [weak self] result in
                    self?.assumeIsolated { $0.socketReady(result) }
                }
            }
            try poll?.watch(events)
        } catch {
            shutDown(PostgresError(.connection, message: "cannot watch the socket: \(error)"))
        }
    }

    private func socketReady(_ result: Result<LoopPoll.Events, UVError>) {
        switch result {
        case .failure(let error):
            // libuv reports a socket error (POLLERR) as EBADF; libpq reads the real one (such as
            // ECONNREFUSED) from the socket and may move on to the server's next address.
            let socket = poll?.socket
            if connectWaiter != nil {
                advanceConnecting()
                if connectWaiter == nil || socket != connection.map(libpq.PQsocket) { return }
            } else {
                readInput()
            }
            shutDown(PostgresError(.connection, message: "socket failed: \(error)"))
        case .success(let events):
            if connectWaiter != nil {
                advanceConnecting()
                return
            }
            if events.contains(.writable) { flushOutput() }
            if events.contains(.readable) { readInput() }
        }
    }

    private func startTimer(_ limit: Duration, _ reason: String) {
        cancelTimer()
        do {
            timer = try loop.scheduleTimer(after: limit) { [weak self] in
                self?.assumeIsolated { $0.shutDown(PostgresError(.timedOut, message: reason)) }
            }
        } catch {
            shutDown(PostgresError(.connection, message: "cannot start a timer: \(error)"))
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    /// Ends the connection for `error`: every waiter learns it, libpq's connection is finished
    /// once the socket's watcher has closed (libuv requires the watcher gone before the socket).
    private func shutDown(_ error: PostgresError) {
        guard failure == nil else { return }
        failure = error
        // Off the loop's thread only when the loop has stopped (its executor then runs jobs on a
        // fallback queue): the stop closed every handle already.
        let loopRuns = loop.inEventLoop
        if loopRuns { cancelTimer() }
        connectWaiter?.resume(throwing: error)
        connectWaiter = nil
        running?.statement.waiter.resume(throwing: error)
        running = nil
        for statement in statements { statement.waiter.resume(throwing: error) }
        statements = []
        for listener in listeners.values { listener.finish() }
        listeners = [:]
        guard let connection else { return }
        self.connection = nil
        if loopRuns, let poll {
            // Boxed here, on the loop: off it (a stopped loop) there is no poll to wait for.
            let finish = LoopBound(connection, on: loop)
            self.poll = nil
            let finishConnection = libpq.PQfinish
            poll.close { finish.withValue { finishConnection($0) } }
        } else {
            libpq.PQfinish(connection)
        }
    }

    private func errorMessage() -> String {
        guard let connection, let text = libpq.PQerrorMessage(connection) else { return "unknown libpq error" }
        let message = String(cString: text)
        return message.hasSuffix("\n") ? String(message.dropLast()) : message
    }

    // MARK: Results

    private func rows(of result: OpaquePointer) -> PostgresRows {
        let columnCount = libpq.PQnfields(result)
        let rowCount = libpq.PQntuples(result)
        let columns = (0..<columnCount).map { Self.text(libpq.PQfname(result, $0)) }
        var values: [[String?]] = []
        values.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            values.append(
                (0..<columnCount).map { column in
                    libpq.PQgetisnull(result, row, column) == 1 ? nil : Self.text(libpq.PQgetvalue(result, row, column))
                })
        }
        let affected = libpq.PQcmdTuples(result).map { Int(String(cString: $0)) ?? 0 } ?? 0
        return PostgresRows(columns: columns, values: values, affectedRows: affected)
    }

    private func serverError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            libpq.PQresultErrorField(result, Int32(code)).map { String(cString: $0) }
        }
        let message = field(UInt8(ascii: "M")) ?? Self.text(libpq.PQresultErrorMessage(result))
        return PostgresError(
            .server, message: message, sqlState: field(UInt8(ascii: "C")), detail: field(UInt8(ascii: "D")))
    }

    /// libpq's text, or empty where it returned no pointer (it does so only for indices out of range).
    private static func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }

    /// Calls `body` with NUL-terminated copies of `strings` (`nil` stays a null pointer), valid
    /// only during the call.
    private static func withCStrings<Result>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> Result)
        -> Result
    {
        let copies = strings.map { $0.map { strdup($0) } ?? nil }
        defer { for copy in copies { free(copy) } }
        return body(copies.map { $0.map { UnsafePointer($0) } })
    }
}
