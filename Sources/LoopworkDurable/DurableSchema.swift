import LoopworkPostgres

/// The queue's tables, created and migrated by the library when the app starts.
///
/// Each migration runs once per database, in order, recorded in `<schema>.schema_migrations`.
/// The whole migration runs in one transaction under an advisory lock, so instances starting
/// together wait for each other instead of creating the same table twice.
struct DurableSchema {
    let name: String
    var qualified: String { PostgresConnection.quotedIdentifier(name) }
    /// The channel a `NOTIFY` announces runnable jobs on.
    var channel: String { "\(name)_jobs" }

    /// Checked at start: the name is spliced into SQL (identifiers cannot be parameters), so it is
    /// kept to the letters every tool accepts unquoted.
    static func validate(_ name: String) throws(DurableTasksError) {
        let first = name.utf8.first
        guard let first, first == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
            name.utf8.count <= 48,
            name.utf8.allSatisfy({
                $0 == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
            })
        else {
            throw DurableTasksError(
                "durable tasks schema '\(name)': use 1 to 48 lowercase letters, digits and '_', starting with a letter or '_'"
            )
        }
    }

    var migrations: [String] {
        let s = qualified
        return [
            """
            CREATE TABLE \(s).jobs (
                id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                name text NOT NULL,
                parameters text NOT NULL,
                state text NOT NULL CHECK (state IN ('held', 'queued', 'running', 'succeeded', 'failed', 'dead')),
                attempts integer NOT NULL DEFAULT 0,
                max_attempts integer NOT NULL CHECK (max_attempts >= 1),
                run_at timestamptz NOT NULL DEFAULT now(),
                locked_by text,
                lease_expires_at timestamptz,
                last_error text,
                idempotency_key text,
                request_id text,
                created_at timestamptz NOT NULL DEFAULT now(),
                started_at timestamptz,
                finished_at timestamptz
            );
            CREATE UNIQUE INDEX jobs_unfinished_idempotency_key ON \(s).jobs (name, idempotency_key)
                WHERE idempotency_key IS NOT NULL AND state IN ('held', 'queued', 'running', 'failed');
            CREATE INDEX jobs_runnable ON \(s).jobs (name, run_at) WHERE state IN ('queued', 'failed');
            CREATE INDEX jobs_leased ON \(s).jobs (lease_expires_at) WHERE state IN ('held', 'running');
            CREATE INDEX jobs_finished ON \(s).jobs (finished_at) WHERE state = 'succeeded';
            CREATE FUNCTION \(s).announce_runnable_job() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('\(channel)', NEW.name);
                RETURN NULL;
            END $$;
            CREATE TRIGGER jobs_announce AFTER INSERT OR UPDATE OF state ON \(s).jobs
                FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION \(s).announce_runnable_job();
            """
        ]
    }

    /// Creates or migrates the schema; safe when several instances start at once.
    func migrate(on connection: PostgresConnection) async throws {
        try await connection.query("BEGIN")
        do {
            // One lock per schema name, held until COMMIT: concurrent starts migrate one by one.
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtext($1))", ["loopwork-durable-schema:\(name)"])
            try await connection.execute(
                script: """
                    CREATE SCHEMA IF NOT EXISTS \(qualified);
                    CREATE TABLE IF NOT EXISTS \(qualified).schema_migrations (
                        version integer PRIMARY KEY,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    );
                    """)
            let applied = try await connection.query(
                "SELECT coalesce(max(version), 0) AS version FROM \(qualified).schema_migrations")
            let current = try applied[0].decode("version", as: Int.self)
            if current > migrations.count {
                throw DurableTasksError(
                    "the durable tasks schema '\(name)' is at version \(current), newer than this build knows (\(migrations.count)): upgrade this instance"
                )
            }
            for (index, migration) in migrations.enumerated() where index + 1 > current {
                try await connection.execute(script: migration)
                try await connection.query(
                    "INSERT INTO \(qualified).schema_migrations (version) VALUES ($1)", [index + 1])
            }
            try await connection.query("COMMIT")
        } catch {
            if await connection.isOpen { _ = try? await connection.query("ROLLBACK") }
            throw error
        }
    }
}

/// Durable tasks are misconfigured or cannot start; the message says what to fix.
public struct DurableTasksError: Error, CustomStringConvertible, Sendable {
    /// What is wrong.
    public let message: String

    init(_ message: String) { self.message = message }

    public var description: String { message }
}
