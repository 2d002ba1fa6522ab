import LoopworkPostgres

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Every statement the queue runs, over one schema. Each changes a job only while the row is in
/// the state (and held by the instance) the change expects, so a late or repeated change of a job
/// that moved on meanwhile does nothing.
struct DurableStore: Sendable {
    let schema: DurableSchema
    private let jobs: String

    init(schema: DurableSchema) {
        self.schema = schema
        self.jobs = "\(schema.qualified).jobs"
    }

    struct ClaimedJob: Sendable {
        let id: String
        let name: String
        let parameters: String
        let attempt: Int
        let maxAttempts: Int
        let requestID: String?
        /// Seconds from runnable to claimed.
        let waited: Double
    }

    /// Inserts a job, `queued` (runnable now) or `held` by `instance` (runnable once released).
    /// With an idempotency key, an unfinished job of the same name and key is returned instead.
    func insert(
        name: String, parameters: String, held: Bool, maxAttempts: Int, idempotencyKey: String?,
        requestID: String?, instance: String, lease: Duration, on pool: PostgresPool
    ) async throws -> DurableJobHandle {
        // Twice at most: the job that blocked the insert may finish before it is looked up.
        for _ in 0..<2 {
            let inserted = try await pool.query(
                """
                INSERT INTO \(jobs) (name, parameters, state, max_attempts, idempotency_key, request_id, locked_by, lease_expires_at)
                VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $3 = 'held' THEN $7 END,
                        CASE WHEN $3 = 'held' THEN now() + make_interval(secs => $8::float8) END)
                ON CONFLICT (name, idempotency_key)
                    WHERE idempotency_key IS NOT NULL AND state IN ('held', 'queued', 'running', 'failed') DO NOTHING
                RETURNING id::text AS id
                """,
                [
                    name, parameters, held ? "held" : "queued", maxAttempts, idempotencyKey, requestID, instance,
                    lease.seconds,
                ])
            if let row = inserted.first { return DurableJobHandle(id: try row.decode("id"), created: true) }
            let existing = try await pool.query(
                """
                SELECT id::text AS id FROM \(jobs)
                WHERE name = $1 AND idempotency_key = $2 AND state IN ('held', 'queued', 'running', 'failed')
                """, [name, idempotencyKey])
            if let row = existing.first { return DurableJobHandle(id: try row.decode("id"), created: false) }
        }
        throw DurableTasksError(
            "job '\(name)' with idempotency key '\(idempotencyKey ?? "")' kept finishing while being scheduled")
    }

    /// Makes held jobs runnable now.
    func release(_ ids: [String], on pool: PostgresPool) async throws {
        try await pool.query(
            """
            UPDATE \(jobs) SET state = 'queued', locked_by = NULL, lease_expires_at = NULL, run_at = now()
            WHERE id = ANY($1::uuid[]) AND state = 'held'
            """, [Self.arrayLiteral(ids)])
    }

    /// Deletes held jobs whose request decided against them (the handler threw).
    func discard(_ ids: [String], on pool: PostgresPool) async throws {
        try await pool.query(
            "DELETE FROM \(jobs) WHERE id = ANY($1::uuid[]) AND state = 'held'", [Self.arrayLiteral(ids)])
    }

    /// Extends the lease of every job `instance` holds or runs.
    func renewLeases(instance: String, lease: Duration, on pool: PostgresPool) async throws {
        try await pool.query(
            """
            UPDATE \(jobs) SET lease_expires_at = now() + make_interval(secs => $2::float8)
            WHERE locked_by = $1 AND state IN ('held', 'running')
            """, [instance, lease.seconds])
    }

    /// Claims up to `limit` jobs named `name`: runnable ones, and held or running ones whose
    /// instance let the lease expire (it died). Rows other instances are claiming are skipped.
    func claim(name: String, limit: Int, instance: String, lease: Duration, on pool: PostgresPool) async throws
        -> [ClaimedJob]
    {
        let rows = try await pool.query(
            """
            WITH next AS (
                SELECT id FROM \(jobs)
                WHERE name = $2
                  AND ((state IN ('queued', 'failed') AND run_at <= now())
                       OR (state IN ('held', 'running') AND lease_expires_at < now()))
                ORDER BY run_at
                LIMIT $3
                FOR UPDATE SKIP LOCKED
            )
            UPDATE \(jobs) AS job
            SET state = 'running', attempts = job.attempts + 1, locked_by = $1,
                lease_expires_at = now() + make_interval(secs => $4::float8), started_at = now()
            FROM next WHERE job.id = next.id
            RETURNING job.id::text AS id, job.parameters, job.attempts, job.max_attempts, job.request_id,
                      extract(epoch FROM now() - job.run_at)::float8 AS waited
            """, [instance, name, limit, lease.seconds])
        return try rows.map { row throws(PostgresError) in
            ClaimedJob(
                id: try row.decode("id"), name: name, parameters: try row.decode("parameters"),
                attempt: try row.decode("attempts"), maxAttempts: try row.decode("max_attempts"),
                requestID: try row.decodeIfPresent("request_id"),
                waited: max(0, try row.decode("waited", as: Double.self)))
        }
    }

    /// How a claimed job's attempt ended.
    enum Outcome: Sendable {
        case succeeded
        case retry(after: Duration, error: String)
        case dead(error: String)
        /// Not run to its end (shutdown): runnable again at once, the attempt not counted.
        case returned
    }

    /// Records the outcome of the attempts of `ids`, for the jobs `instance` still holds.
    func finish(_ ids: [String], _ outcome: Outcome, instance: String, on pool: PostgresPool) async throws {
        let unlock = "locked_by = NULL, lease_expires_at = NULL"
        let claimed = "id = ANY($1::uuid[]) AND locked_by = $2 AND state = 'running'"
        let ids = Self.arrayLiteral(ids)
        switch outcome {
        case .succeeded:
            try await pool.query(
                "UPDATE \(jobs) SET state = 'succeeded', finished_at = now(), last_error = NULL, \(unlock) WHERE \(claimed)",
                [ids, instance])
        case .retry(let delay, let error):
            try await pool.query(
                """
                UPDATE \(jobs) SET state = 'failed', run_at = now() + make_interval(secs => $3::float8), last_error = $4, \(unlock)
                WHERE \(claimed)
                """, [ids, instance, delay.seconds, error])
        case .dead(let error):
            try await pool.query(
                "UPDATE \(jobs) SET state = 'dead', finished_at = now(), last_error = $3, \(unlock) WHERE \(claimed)",
                [ids, instance, error])
        case .returned:
            try await pool.query(
                """
                UPDATE \(jobs) SET state = 'queued', attempts = greatest(attempts - 1, 0), run_at = now(), \(unlock)
                WHERE \(claimed)
                """, [ids, instance])
        }
    }

    /// Makes the dead or failed job `id` runnable now with its attempts reset; `false` if there is none.
    func requeue(id: String, on pool: PostgresPool) async throws -> Bool {
        guard UUID(uuidString: id) != nil else { return false }
        return try await pool.query(
            """
            UPDATE \(jobs) SET state = 'queued', attempts = 0, run_at = now(), finished_at = NULL, locked_by = NULL, lease_expires_at = NULL
            WHERE id = $1::uuid AND state IN ('dead', 'failed')
            """, [id]
        ).affectedRows == 1
    }

    /// The job with `id`, or `nil` when there is none (or `id` is not a job id at all).
    func job(id: String, on pool: PostgresPool) async throws -> DurableJobRecord? {
        // Anything but a UUID names no job; the server would reject it with a syntax error.
        guard UUID(uuidString: id) != nil else { return nil }
        let rows = try await pool.query(
            """
            SELECT id::text AS id, name, state, attempts, max_attempts, last_error, request_id FROM \(jobs) WHERE id = $1::uuid
            """, [id])
        guard let row = rows.first else { return nil }
        let stateText: String = try row.decode("state")
        guard let state = DurableJobState(rawValue: stateText) else {
            throw DurableTasksError("job \(id) has state '\(stateText)', which this version does not know")
        }
        return DurableJobRecord(
            id: try row.decode("id"), name: try row.decode("name"), state: state,
            attempts: try row.decode("attempts"), maxAttempts: try row.decode("max_attempts"),
            lastError: try row.decodeIfPresent("last_error"), requestID: try row.decodeIfPresent("request_id"))
    }

    /// Deletes succeeded jobs that finished more than `retention` ago.
    func deleteFinished(olderThan retention: Duration, on pool: PostgresPool) async throws -> Int {
        try await pool.query(
            "DELETE FROM \(jobs) WHERE state = 'succeeded' AND finished_at < now() - make_interval(secs => $1::float8)",
            [retention.seconds]
        ).affectedRows
    }

    /// Names of runnable jobs waiting for longer than `age` that none of `known` is, with counts.
    func unknownWaitingJobs(known: [String], age: Duration, on pool: PostgresPool) async throws -> [(
        name: String, count: Int
    )] {
        let rows = try await pool.query(
            """
            SELECT name, count(*)::int AS waiting FROM \(jobs)
            WHERE state IN ('queued', 'failed') AND run_at < now() - make_interval(secs => $2::float8) AND NOT (name = ANY($1::text[]))
            GROUP BY name ORDER BY name
            """, [Self.arrayLiteral(known), age.seconds])
        return try rows.map { row throws(PostgresError) in (try row.decode("name"), try row.decode("waiting")) }
    }

    /// A PostgreSQL array literal of `values`, each quoted, for one `$n::type[]` parameter.
    static func arrayLiteral(_ values: [String]) -> String {
        let quoted = values.map { value in
            var text = "\""
            for character in value {
                if character == "\"" || character == "\\" { text.append("\\") }
                text.append(character)
            }
            return text + "\""
        }
        return "{" + quoted.joined(separator: ",") + "}"
    }
}

extension Duration {
    /// The duration in seconds, for `make_interval(secs => …)`.
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
