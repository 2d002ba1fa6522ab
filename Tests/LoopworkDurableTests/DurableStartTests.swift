import Loopwork
import LoopworkDurable
import LoopworkPostgres
import LoopworkTesting
import Testing

@Suite("Durable tasks: starting")
struct DurableStartTests {
    struct Unregistered: DurableJob {
        static let name = "unregistered"
        struct Parameters: Codable, Sendable {}
        func run(_ parameters: Parameters, context: JobContext) async throws {}
    }

    struct Impostor: DurableJob {
        static let name = Greet.name
        struct Parameters: Codable, Sendable {}
        func run(_ parameters: Parameters, context: JobContext) async throws {}
    }

    private func startError(_ app: App) async -> String? {
        do {
            try await app.test(.router) { _ in }
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("a route scheduling durable jobs without addDurableTasks names the route and the fix")
    func withoutAddDurableTasks() async {
        let app = App()
        app.post("/signup") { (_: DurableTasks<Greet>) in "ok" }
        let message = await startError(app)
        #expect(message?.contains("POST /signup") == true, "\(message ?? "started")")
        #expect(message?.contains("addDurableTasks") == true)
    }

    @Test("a route scheduling a job type that was not registered names the job")
    func unregisteredJob() async throws {
        let app = App()
        try app.addDurableTasks(postgres: "postgres://127.0.0.1:1/none", jobs: [Greet(log: JobLog())])
        app.post("/x") { (_: DurableTasks<Unregistered>) in "ok" }
        let message = await startError(app)
        #expect(message?.contains("'unregistered'") == true, "\(message ?? "started")")
    }

    @Test("a route scheduling a type whose name belongs to another registered type is refused")
    func nameOfAnotherType() async throws {
        let app = App()
        try app.addDurableTasks(postgres: "postgres://127.0.0.1:1/none", jobs: [Greet(log: JobLog())])
        app.post("/x") { (_: DurableTasks<Impostor>) in "ok" }
        let message = await startError(app)
        #expect(message?.contains("registered for another type") == true, "\(message ?? "started")")
    }

    @Test("two job types with one name are refused when registered")
    func duplicateNames() {
        let app = App()
        #expect(throws: DurableTasksError.self) {
            try app.addDurableTasks(postgres: "postgres://127.0.0.1:1/none", jobs: [Greet(log: JobLog()), Impostor()])
        }
    }

    @Test("a schema name that is not a plain identifier is refused at start")
    func badSchema() async throws {
        let app = App()
        try app.addDurableTasks(
            postgres: "postgres://127.0.0.1:1/none", jobs: [Greet(log: JobLog())],
            configuration: DurableTasksConfiguration(schema: "jobs; DROP TABLE users"))
        let message = await startError(app)
        #expect(message?.contains("lowercase letters") == true, "\(message ?? "started")")
    }

    @Test("a database that cannot be reached fails the start with the reason, password hidden")
    func databaseDown() async throws {
        let app = App()
        try app.addDurableTasks(postgres: "postgres://worker:secret@127.0.0.1:1/none", jobs: [Greet(log: JobLog())])
        let message = await startError(app)
        #expect(message?.contains("cannot start") == true, "\(message ?? "started")")
        #expect(message?.contains("refused") == true, "\(message ?? "started")")
        #expect(message?.contains("secret") == false)
    }

    @Test(
        "instances starting together on a new schema migrate it once",
        .enabled(if: DurableTestDatabase.isAvailable, DurableTestDatabase.skipReason))
    func concurrentStarts() async throws {
        let schema = DurableTestDatabase.freshSchema()
        let apps = try (0..<3).map { _ in try DurableTestDatabase.app(schema: schema, jobs: [Greet(log: JobLog())]) }
        let running = try await withThrowingTaskGroup(of: RunningApp.self) { group in
            for app in apps { group.addTask { try await app.start() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(running.count == 3)
        let versions = try await DurableTestDatabase.sql("SELECT count(*)::int AS n FROM \(schema).schema_migrations")
        #expect(try versions[0].decode("n", as: Int.self) == 1)
        for app in running { await app.shutdown() }
    }

    @Test(
        "a schema migrated by a newer build refuses to start, saying so",
        .enabled(if: DurableTestDatabase.isAvailable, DurableTestDatabase.skipReason))
    func newerSchema() async throws {
        let schema = DurableTestDatabase.freshSchema()
        try await DurableTestDatabase.app(schema: schema, jobs: [Greet(log: JobLog())]).test(.router) { _ in }
        try await DurableTestDatabase.sql("INSERT INTO \(schema).schema_migrations (version) VALUES (99)")
        let message = await startError(try DurableTestDatabase.app(schema: schema, jobs: [Greet(log: JobLog())]))
        #expect(message?.contains("version 99, newer than this build knows") == true, "\(message ?? "started")")
    }

    @Test(
        "a job whose name no instance registers stays queued and is reported",
        .enabled(if: DurableTestDatabase.isAvailable, DurableTestDatabase.skipReason))
    func unknownJobNameIsReported() async throws {
        let schema = DurableTestDatabase.freshSchema()
        try await DurableTestDatabase.app(schema: schema, jobs: [Greet(log: JobLog())]).test(.router) { _ in }
        // Left by an instance of an older build, under a name this one no longer has.
        try await DurableTestDatabase.sql(
            """
            INSERT INTO \(schema).jobs (name, parameters, state, max_attempts, run_at)
            VALUES ('send-fax', '{}', 'queued', 3, now() - interval '2 minutes')
            """)
        let logs = LogLines()
        try await DurableTestDatabase.app(schema: schema, jobs: [Greet(log: JobLog())], logs: logs).test(.router) { _ in
            try await DurableTestDatabase.eventually("the waiting job is reported") {
                logs.all.contains {
                    $0.contains("does not register") && $0.contains("job=send-fax") && $0.contains("waiting=1")
                }
            }
        }
        let rows = try await DurableTestDatabase.sql(
            "SELECT state, attempts FROM \(schema).jobs WHERE name = 'send-fax'")
        #expect(try rows[0].decode("state", as: String.self) == "queued")
        #expect(try rows[0].decode("attempts", as: Int.self) == 0)
    }
}
