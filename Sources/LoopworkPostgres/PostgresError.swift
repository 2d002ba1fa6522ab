/// A PostgreSQL failure: what went wrong, the server's SQLSTATE when the server reported it, and
/// its message.
public struct PostgresError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Where a failure comes from, which tells a caller what it may do next.
    public enum Kind: Sendable, Equatable {
        /// Connecting failed, or an open connection broke (the server went away, the socket
        /// failed): the connection is closed; open another and retry what is idempotent.
        case connection
        /// The server rejected a statement; ``PostgresError/sqlState`` says why. The connection
        /// stays usable.
        case server
        /// Connecting or a statement took longer than its configured limit; the connection is
        /// closed, since what the server did with the statement is unknown.
        case timedOut
        /// The connection was closed by ``PostgresConnection/close()`` before the statement ran.
        case closed
        /// A result did not have the shape the caller asked for: a missing column, or a value
        /// that does not convert to the requested type.
        case decoding
    }

    /// Where the failure comes from.
    public let kind: Kind
    /// The five-character SQLSTATE code the server sent, such as `23505` (unique violation).
    public let sqlState: String?
    /// The primary message: the server's, or libpq's for connection failures.
    public let message: String
    /// The server's detail line, when it sent one.
    public let detail: String?

    /// Describes a failure.
    public init(_ kind: Kind, message: String, sqlState: String? = nil, detail: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
    }

    /// Whether the connection that raised this is gone, so retrying needs another one.
    public var closedConnection: Bool { kind != .server && kind != .decoding }

    public var description: String {
        var text = "PostgreSQL \(kind): \(message)"
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let detail { text += "; \(detail)" }
        return text
    }
}
