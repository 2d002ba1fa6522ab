public import LoopworkUV

/// A few connections to one server for one event loop, opened when needed and reopened after
/// they break.
///
/// Statements from many tasks share the pool: each borrows a connection for one statement
/// (``query(_:_:)``) or for a sequence that needs one session, such as a transaction
/// (``withConnection(_:)``). A connection that broke is dropped when it is returned; the next
/// borrower opens a new one, after a delay that doubles with each failed attempt in a row (with
/// jitter, up to ``maximumReconnectDelay``), so a server that is down is not hammered.
public actor PostgresPool {
    /// The loop every connection of the pool runs on.
    public nonisolated let loop: EventLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    /// How connections are opened.
    public nonisolated let configuration: PostgresConfiguration
    /// The most connections open at once.
    public nonisolated let size: Int
    /// The longest wait before reconnecting after failed attempts.
    public nonisolated let maximumReconnectDelay: Duration

    private var idle: [PostgresConnection] = []
    /// Connections open, borrowed or being opened.
    private var opened = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var failedAttempts = 0
    private var isClosed = false

    /// Creates an empty pool; nothing connects until the first statement.
    ///
    /// - Parameters:
    ///   - size: The most connections open at once (at least 1).
    ///   - maximumReconnectDelay: The cap of the doubling delay between failed connection attempts.
    public init(
        _ configuration: PostgresConfiguration, size: Int = 4, on loop: EventLoop,
        maximumReconnectDelay: Duration = .seconds(5)
    ) {
        self.configuration = configuration
        self.size = max(1, size)
        self.loop = loop
        self.maximumReconnectDelay = maximumReconnectDelay
    }

    /// Runs one statement on a borrowed connection; see ``PostgresConnection/query(_:_:)``.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresParameter)?] = []) async throws -> PostgresRows {
        try await withConnection { try await $0.query(sql, parameters) }
    }

    /// Lends `body` one connection for its whole run, such as a transaction's statements.
    ///
    /// - Throws: ``PostgresError`` when no connection can be opened (kind `connection` or
    ///   `timedOut`) or the pool is closed (kind `closed`); otherwise what `body` throws.
    public func withConnection<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws
        -> Result
    {
        let connection = try await borrow()
        do {
            let result = try await body(connection)
            await giveBack(connection)
            return result
        } catch {
            await giveBack(connection)
            throw error
        }
    }

    /// Closes every idle connection and refuses new borrowers; borrowed connections close when
    /// they are returned.
    public func close() async {
        isClosed = true
        let connections = idle
        idle = []
        opened -= connections.count
        for connection in connections { await connection.close() }
        let waiting = waiters
        waiters = []
        for waiter in waiting { waiter.resume() }
    }

    private func borrow() async throws -> PostgresConnection {
        while true {
            if isClosed { throw PostgresError(.closed, message: "the connection pool was closed") }
            while let connection = idle.popLast() {
                if await connection.isOpen { return connection }
                opened -= 1
            }
            if opened < size {
                opened += 1
                do {
                    return try await openConnection()
                } catch {
                    opened -= 1
                    // Another borrower waiting for a free slot may try in turn.
                    wakeOne()
                    throw error
                }
            }
            await withCheckedContinuation { waiters.append($0) }
        }
    }

    private func openConnection() async throws -> PostgresConnection {
        if failedAttempts > 0 {
            try await Task.sleep(
                for: Backoff(base: .milliseconds(50), cap: maximumReconnectDelay).delay(after: failedAttempts))
        }
        do {
            let connection = try await PostgresConnection.connect(configuration, on: loop)
            failedAttempts = 0
            return connection
        } catch {
            failedAttempts += 1
            throw error
        }
    }

    private func giveBack(_ connection: PostgresConnection) async {
        let reusable = await connection.isOpen
        if isClosed || !reusable {
            opened -= 1
            await connection.close()
        } else {
            idle.append(connection)
        }
        wakeOne()
    }

    private func wakeOne() {
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }
}
