/// Where and how to connect, and how long to wait.
public struct PostgresConfiguration: Sendable {
    /// A libpq connection string: a URL (`postgres://user:password@host:5432/database`) or
    /// `key=value` pairs (`host=/run/postgresql dbname=app`), as `psql` accepts them.
    public var connectionString: String
    /// How long connecting may take (DNS, TCP, TLS, authentication) before it fails with kind
    /// `timedOut`.
    public var connectTimeout: Duration
    /// How long one statement may take, from sending to its last result, before the connection
    /// is closed and the statement fails with kind `timedOut`; `nil` waits for ever. The server
    /// may have run the statement: only retry what is idempotent.
    public var statementTimeout: Duration?

    /// Describes a server to connect to.
    public init(
        _ connectionString: String, connectTimeout: Duration = .seconds(10), statementTimeout: Duration? = .seconds(30)
    ) {
        self.connectionString = connectionString
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
    }

    /// The connection string without its password, for messages and logs.
    public var redactedConnectionString: String {
        let text = connectionString
        guard let scheme = text.firstRange(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@") else {
            return text.contains("password=") ? "(connection string with a password)" : text
        }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}
