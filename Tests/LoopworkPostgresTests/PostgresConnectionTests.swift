import Foundation
import LoopworkPostgres
import LoopworkUV
import Testing

@Suite(
    "PostgreSQL connection",
    .enabled(if: TestDatabase.isAvailable, "needs LOOPWORK_TEST_POSTGRES_URL (scripts/test.sh starts a server)"))
struct PostgresConnectionTests {
    @Test("parameters are bound by the server and rows come back as typed columns")
    func parametersAndRows() async throws {
        try await TestDatabase.withConnection { connection in
            let rows = try await connection.query(
                "SELECT $1::int + $2::int AS sum, $3::text AS name, $4::text AS missing, $5::bool AS flag",
                [40, 2, "O'Brien; DROP TABLE x", nil, true])
            #expect(rows.columns == ["sum", "name", "missing", "flag"])
            #expect(rows.count == 1)
            let row = try #require(rows.first)
            #expect(try row.decode("sum", as: Int.self) == 42)
            #expect(try row.decode("name", as: String.self) == "O'Brien; DROP TABLE x")
            #expect(try row.decodeIfPresent("missing", as: String.self) == nil)
            #expect(try row.decode("flag", as: Bool.self))
            #expect(throws: PostgresError.self) { try row.decode("nope", as: Int.self) }
            #expect(throws: PostgresError.self) { try row.decode("name", as: Int.self) }
        }
    }

    @Test("a rejected statement carries SQLSTATE and message, and the connection stays usable")
    func serverErrors() async throws {
        try await TestDatabase.withConnection { connection in
            let error = await #expect(throws: PostgresError.self) {
                try await connection.query("SELECT 1 / $1::int", [0])
            }
            #expect(error?.kind == .server)
            #expect(error?.sqlState == "22012")
            #expect(error?.message.contains("division by zero") == true)
            try await connection.query("CREATE TEMPORARY TABLE unique_things (name text PRIMARY KEY)")
            try await connection.query("INSERT INTO unique_things VALUES ($1)", ["a"])
            let duplicate = await #expect(throws: PostgresError.self) {
                try await connection.query("INSERT INTO unique_things VALUES ($1)", ["a"])
            }
            #expect(duplicate?.sqlState == "23505")
            #expect(duplicate?.detail?.contains("already exists") == true)
            let rows = try await connection.query("SELECT count(*) AS n FROM unique_things")
            #expect(try rows[0].decode("n", as: Int.self) == 1)
            #expect(await connection.isOpen)
        }
    }

    @Test("statements from many tasks are queued on one connection, each with its own answer")
    func concurrentStatements() async throws {
        try await TestDatabase.withConnection { connection in
            try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for value in 0..<200 {
                    group.addTask {
                        let rows = try await connection.query("SELECT $1::int * 2 AS doubled", [value])
                        return (value, try rows[0].decode("doubled", as: Int.self))
                    }
                }
                var seen = 0
                for try await (value, doubled) in group {
                    #expect(doubled == value * 2)
                    seen += 1
                }
                #expect(seen == 200)
            }
        }
    }

    @Test("affected rows, empty results and a script of several statements")
    func commandsAndScripts() async throws {
        try await TestDatabase.withConnection { connection in
            try await connection.execute(
                script: """
                    CREATE TEMPORARY TABLE items (id int PRIMARY KEY, label text);
                    INSERT INTO items SELECT n, 'item ' || n FROM generate_series(1, 5) AS n;
                    """)
            let updated = try await connection.query("UPDATE items SET label = $1 WHERE id <= $2", ["low", 3])
            #expect(updated.affectedRows == 3)
            let none = try await connection.query("SELECT id FROM items WHERE id > $1", [100])
            #expect(none.isEmpty)
            #expect(none.columns == ["id"])
            let failed = await #expect(throws: PostgresError.self) {
                try await connection.execute(
                    script:
                        "INSERT INTO items VALUES (6, 'six'); INSERT INTO items VALUES (1, 'again'); INSERT INTO items VALUES (7, 'seven');"
                )
            }
            #expect(failed?.sqlState == "23505")
            // One implicit transaction: the statement before the failure is rolled back too.
            let count = try await connection.query("SELECT count(*) AS n FROM items")
            #expect(try count[0].decode("n", as: Int.self) == 5)
        }
    }

    @Test("LISTEN receives what another connection NOTIFYs")
    func listenNotify() async throws {
        try await TestDatabase.withLoop { loop in
            let listener = try await PostgresConnection.connect(TestDatabase.configuration, on: loop)
            let sender = try await PostgresConnection.connect(TestDatabase.configuration, on: loop)
            let notifications = await listener.notifications()
            try await listener.listen("loopwork test channel")
            try await sender.query("SELECT pg_notify($1, $2)", ["loopwork test channel", "first"])
            try await sender.query("SELECT pg_notify($1, $2)", ["other channel", "ignored"])
            try await sender.query("SELECT pg_notify($1, $2)", ["loopwork test channel", "second"])
            var iterator = notifications.makeAsyncIterator()
            let first = await iterator.next()
            let second = await iterator.next()
            #expect(first?.channel == "loopwork test channel")
            #expect(first?.payload == "first")
            #expect(second?.payload == "second")
            await sender.close()
            await listener.close()
            // Closing ends the stream.
            #expect(await iterator.next() == nil)
        }
    }

    @Test("a refused connection and an unknown database fail with libpq's reason")
    func connectFailures() async throws {
        try await TestDatabase.withLoop { loop in
            let refused = await #expect(throws: PostgresError.self) {
                _ = try await PostgresConnection.connect(PostgresConfiguration(TestDatabase.refusedURL), on: loop)
            }
            #expect(refused?.kind == .connection)
            #expect(refused?.message.contains("refused") == true, "\(String(describing: refused))")
            var unknown = TestDatabase.configuration
            unknown.connectionString =
                TestDatabase.url.map { $0.replacingOccurrences(of: "/postgres", with: "/no_such_database") } ?? ""
            let missing = await #expect(throws: PostgresError.self) {
                _ = try await PostgresConnection.connect(unknown, on: loop)
            }
            #expect(missing?.kind == .connection)
            #expect(missing?.message.contains("no_such_database") == true, "\(String(describing: missing))")
            let malformed = await #expect(throws: PostgresError.self) {
                _ = try await PostgresConnection.connect(PostgresConfiguration("postgres://[broken"), on: loop)
            }
            #expect(malformed?.kind == .connection)
        }
    }

    @Test("a statement over its time limit closes the connection with kind timedOut")
    func statementTimeout() async throws {
        try await TestDatabase.withLoop { loop in
            var configuration = TestDatabase.configuration
            configuration.statementTimeout = .milliseconds(200)
            let connection = try await PostgresConnection.connect(configuration, on: loop)
            let slow = await #expect(throws: PostgresError.self) { try await connection.query("SELECT pg_sleep(30)") }
            #expect(slow?.kind == .timedOut)
            #expect(await !connection.isOpen)
            let after = await #expect(throws: PostgresError.self) { try await connection.query("SELECT 1") }
            #expect(after?.kind == .timedOut)
        }
    }

    @Test("a backend killed by the server fails its connection; the pool opens another")
    func brokenConnectionAndPool() async throws {
        try await TestDatabase.withLoop { loop in
            let pool = PostgresPool(TestDatabase.configuration, size: 1, on: loop)
            let victim = try await pool.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self)
            let admin = try await PostgresConnection.connect(TestDatabase.configuration, on: loop)
            try await admin.query("SELECT pg_terminate_backend($1)", [victim])
            // The pooled connection learns of its end on its next statement at the latest.
            var sawBreak = false
            var replacement = victim
            for _ in 0..<3 where replacement == victim {
                do {
                    replacement = try await pool.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self)
                } catch let error as PostgresError {
                    #expect(error.kind == .connection, "\(error)")
                    sawBreak = true
                }
            }
            #expect(replacement != victim)
            #expect(sawBreak || replacement != victim)
            await admin.close()
            await pool.close()
        }
    }

    @Test("a pool lends at most its size of connections, whatever the demand")
    func poolSize() async throws {
        try await TestDatabase.withLoop { loop in
            let pool = PostgresPool(TestDatabase.configuration, size: 3, on: loop)
            let pids = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<60 {
                    group.addTask {
                        try await pool.query("SELECT pg_backend_pid() AS pid, pg_sleep(0.005)")[0].decode(
                            "pid", as: Int.self)
                    }
                }
                var pids = Set<Int>()
                for try await pid in group { pids.insert(pid) }
                return pids
            }
            #expect(pids.count <= 3)
            #expect(pids.count >= 1)
            await pool.close()
            let closed = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
            #expect(closed?.kind == .closed)
        }
    }

    @Test("a pool whose server is down fails at once with the reason, then retries with a delay")
    func poolServerDown() async throws {
        try await TestDatabase.withLoop { loop in
            let pool = PostgresPool(
                PostgresConfiguration(TestDatabase.refusedURL), size: 2, on: loop,
                maximumReconnectDelay: .milliseconds(100))
            for _ in 0..<3 {
                let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
                #expect(error?.kind == .connection)
            }
            await pool.close()
        }
    }
}
