import Foundation
import Loopwork
import LoopworkDurable
import LoopworkPostgres
import LoopworkTesting
import MetricsTestKit
import Testing

/// Fails until its `failures` are used up, then succeeds.
struct Flaky: DurableJob {
    static let name = "flaky"
    static var options: DurableJobOptions {
        DurableJobOptions(
            maxAttempts: 3, timeout: .seconds(5), retryDelay: .milliseconds(10), maximumRetryDelay: .milliseconds(40))
    }
    struct Parameters: Codable, Sendable { let failures: Int }
    struct Refused: Error, CustomStringConvertible {
        let attempt: Int
        var description: String { "refused on attempt \(attempt)" }
    }
    let log: JobLog
    func run(_ parameters: Parameters, context: JobContext) async throws {
        await log.record(context, "attempt \(context.attempt)")
        if context.attempt <= parameters.failures { throw Refused(attempt: context.attempt) }
    }
}

/// Runs until cancelled (a time limit, a shutdown).
struct Sleeper: DurableJob {
    static let name = "sleeper"
    static var options: DurableJobOptions { DurableJobOptions(maxAttempts: 1, timeout: .milliseconds(300)) }
    struct Parameters: Codable, Sendable { let seconds: Int }
    let log: JobLog
    func run(_ parameters: Parameters, context: JobContext) async throws {
        await log.record(context, "started")
        try await Task.sleep(for: .seconds(parameters.seconds))
    }
}

@Suite("Durable tasks: execution", .enabled(if: DurableTestDatabase.isAvailable, DurableTestDatabase.skipReason))
struct DurableExecutionTests {
    /// Starts the app's workers with no routes and runs `body` while they run.
    private func withWorkers(
        schema: String, jobs: [any DurableJob], _ adjust: (inout DurableTasksConfiguration) -> Void = { _ in },
        _ body: @Sendable (App) async throws -> Void
    ) async throws {
        let app = try DurableTestDatabase.app(schema: schema, jobs: jobs, adjust)
        try await app.test(.router) { _ in try await body(app) }
    }

    /// Inserts a job as another instance would have left it; `leaseSeconds` from now (negative:
    /// expired).
    private func insert(
        _ schema: String, name: String, parameters: String, state: String = "queued", lockedBy: String? = nil,
        leaseSeconds: Double? = nil, attempts: Int = 0, maxAttempts: Int = 3
    ) async throws -> String {
        let rows = try await DurableTestDatabase.sql(
            """
            INSERT INTO \(schema).jobs (name, parameters, state, max_attempts, locked_by, lease_expires_at, attempts)
            VALUES ($1, $2, $3, $7, $4, now() + make_interval(secs => $5::float8), $6) RETURNING id::text AS id
            """, [name, parameters, state, lockedBy, leaseSeconds, attempts, maxAttempts])
        return try rows[0].decode("id")
    }

    @Test("a failing job is retried with backoff and succeeds on a later attempt")
    func retriesThenSucceeds() async throws {
        let log = JobLog()
        let schema = DurableTestDatabase.freshSchema()
        try await withWorkers(schema: schema, jobs: [Flaky(log: log)]) { app in
            let id = try await insert(schema, name: Flaky.name, parameters: #"{"failures":2}"#)
            try await DurableTestDatabase.eventually("the job succeeds") {
                try await app.durableQueue?.job(id: id)?.state == .succeeded
            }
            let job = try #require(try await app.durableQueue?.job(id: id))
            #expect(job.attempts == 3)
            #expect(await log.parameters == ["attempt 1", "attempt 2", "attempt 3"])
        }
    }

    @Test("a job failing on every attempt ends dead, with its last error kept")
    func deadAfterMaxAttempts() async throws {
        let log = JobLog()
        let schema = DurableTestDatabase.freshSchema()
        try await withWorkers(schema: schema, jobs: [Flaky(log: log)]) { app in
            let id = try await insert(schema, name: Flaky.name, parameters: #"{"failures":99}"#)
            try await DurableTestDatabase.eventually("the job is dead") {
                try await app.durableQueue?.job(id: id)?.state == .dead
            }
            let job = try #require(try await app.durableQueue?.job(id: id))
            #expect(job.attempts == 3)
            #expect(job.lastError?.contains("refused on attempt 3") == true, "\(job)")
            #expect(await log.total == 3)
        }
    }

    @Test("parameters that no longer decode make the job dead at once, with the decoding error")
    func undecodableParameters() async throws {
        let log = JobLog()
        let schema = DurableTestDatabase.freshSchema()
        try await withWorkers(schema: schema, jobs: [Flaky(log: log)]) { app in
            // As if the field had been renamed since the job was stored.
            let id = try await insert(schema, name: Flaky.name, parameters: #"{"failureCount":1}"#)
            try await DurableTestDatabase.eventually("the job is dead") {
                try await app.durableQueue?.job(id: id)?.state == .dead
            }
            let job = try #require(try await app.durableQueue?.job(id: id))
            #expect(job.attempts == 1)
            #expect(job.lastError?.contains("do not decode") == true, "\(job)")
            #expect(job.lastError?.contains("failures") == true, "\(job)")
            #expect(await log.total == 0)
        }
    }

    @Test("jobs held or run by an instance whose lease expired are run by another")
    func expiredLeasesAreTakenOver() async throws {
        let log = JobLog()
        let schema = DurableTestDatabase.freshSchema()
        try await withWorkers(schema: schema, jobs: [Flaky(log: log)]) { app in
            let running = try await insert(
                schema, name: Flaky.name, parameters: #"{"failures":0}"#, state: "running",
                lockedBy: "instance-that-died", leaseSeconds: -1, attempts: 1)
            let held = try await insert(
                schema, name: Flaky.name, parameters: #"{"failures":0}"#, state: "held",
                lockedBy: "instance-that-died", leaseSeconds: -1)
            // A lease still valid stays with its instance.
            let alive = try await insert(
                schema, name: Flaky.name, parameters: #"{"failures":0}"#, state: "held",
                lockedBy: "instance-alive", leaseSeconds: 3600)
            try await DurableTestDatabase.eventually("both expired jobs succeed") {
                let first = try await app.durableQueue?.job(id: running)?.state
                let second = try await app.durableQueue?.job(id: held)?.state
                return first == .succeeded && second == .succeeded
            }
            #expect(try await app.durableQueue?.job(id: running)?.attempts == 2)
            #expect(try await app.durableQueue?.job(id: held)?.attempts == 1)
            #expect(try await app.durableQueue?.job(id: alive)?.state == .held)
        }
    }

    @Test("an attempt over its time limit is cancelled and counted as failed")
    func timeLimit() async throws {
        let log = JobLog()
        let schema = DurableTestDatabase.freshSchema()
        try await withWorkers(schema: schema, jobs: [Sleeper(log: log)]) { app in
            let id = try await insert(schema, name: Sleeper.name, parameters: #"{"seconds":30}"#, maxAttempts: 1)
            try await DurableTestDatabase.eventually("the job is dead") {
                try await app.durableQueue?.job(id: id)?.state == .dead
            }
            let job = try #require(try await app.durableQueue?.job(id: id))
            #expect(job.lastError?.contains("timeout") == true, "\(job)")
        }
    }

    @Test("shutdown returns a job still running at its deadline to the queue, attempt not counted")
    func shutdownReturnsRunningJobs() async throws {
        let log = JobLog()
        let schema = DurableTestDatabase.freshSchema()
        struct Stubborn: DurableJob {
            static let name = "stubborn"
            static var options: DurableJobOptions { DurableJobOptions(maxAttempts: 2, timeout: .seconds(60)) }
            struct Parameters: Codable, Sendable {}
            let log: JobLog
            func run(_ parameters: Parameters, context: JobContext) async throws {
                await log.record(context, "started")
                try await Task.sleep(for: .seconds(60))
            }
        }
        let ids = IDs()
        try await withWorkers(schema: schema, jobs: [Stubborn(log: log)], { $0.shutdownDeadline = .milliseconds(200) })
        { _ in
            let inserted = try await insert(schema, name: Stubborn.name, parameters: "{}")
            await log.waitForRuns(1)
            let rows = try await DurableTestDatabase.sql(
                "SELECT state FROM \(schema).jobs WHERE id = $1::uuid", [inserted])
            #expect(try rows[0].decode("state", as: String.self) == "running")
            await ids.add(inserted)
        }
        let id = try #require(await ids.all.first)
        let rows = try await DurableTestDatabase.sql(
            "SELECT state, attempts, locked_by FROM \(schema).jobs WHERE id = $1::uuid", [id])
        #expect(try rows[0].decode("state", as: String.self) == "queued")
        #expect(try rows[0].decode("attempts", as: Int.self) == 0)
        #expect(try rows[0].decodeIfPresent("locked_by", as: String.self) == nil)
    }

    @Test("many jobs run exactly once each, within the concurrency limit")
    func manyJobsOnce() async throws {
        let log = JobLog()
        let schema = DurableTestDatabase.freshSchema()
        try await withWorkers(schema: schema, jobs: [Greet(log: log)], { $0.concurrency = 4 }) { _ in
            try await DurableTestDatabase.sql(
                """
                INSERT INTO \(schema).jobs (name, parameters, state, max_attempts)
                SELECT 'greet', json_build_object('who', 'n' || n)::text, 'queued', 3 FROM generate_series(1, 300) AS n
                """)
            await log.waitForRuns(300)
            try await DurableTestDatabase.eventually("every job is recorded as succeeded") {
                let rows = try await DurableTestDatabase.sql(
                    "SELECT count(*)::int AS n FROM \(schema).jobs WHERE state = 'succeeded'")
                return try rows[0].decode("n", as: Int.self) == 300
            }
        }
        let runs = await log.runs
        #expect(runs.count == 300)
        #expect(runs.values.allSatisfy { $0 == 1 })
    }

    @Test("counters and the queue-latency timer follow every attempt, per job name")
    func metrics() async throws {
        let log = JobLog()
        let metrics = TestMetrics()
        let schema = DurableTestDatabase.freshSchema()
        let app = try DurableTestDatabase.app(schema: schema, jobs: [Flaky(log: log)], metrics: metrics)
        try await app.test(.router) { _ in
            let queue = try #require(app.durableQueue)
            try await queue.schedule(Flaky.self, .init(failures: 1))  // fails, then succeeds
            try await queue.schedule(Flaky.self, .init(failures: 9))  // fails all 3 attempts: dead
            await log.waitForRuns(5)
            try await DurableTestDatabase.eventually("both jobs are finished") {
                let rows = try await DurableTestDatabase.sql(
                    "SELECT count(*)::int AS n FROM \(schema).jobs WHERE state IN ('succeeded', 'dead')")
                return try rows[0].decode("n", as: Int.self) == 2
            }
        }
        func total(_ event: String) throws -> Int64 {
            try metrics.expectCounter("loopwork_durable_jobs_\(event)_total", [("job", "flaky")]).totalValue
        }
        #expect(try total("enqueued") == 2)
        #expect(try total("started") == 5)
        #expect(try total("failed") == 4)
        #expect(try total("retried") == 3)
        #expect(try total("succeeded") == 1)
        #expect(try total("dead") == 1)
        let latency = try metrics.expectTimer("loopwork_durable_job_queue_latency_seconds", [("job", "flaky")])
        #expect(latency.values.count == 5)
        #expect(latency.values.allSatisfy { $0 >= 0 })
    }

    @Test("a dead job requeued runs again with all its attempts; nothing else can be requeued")
    func requeueDeadJob() async throws {
        let log = JobLog()
        let schema = DurableTestDatabase.freshSchema()
        try await withWorkers(schema: schema, jobs: [Flaky(log: log)]) { app in
            let queue = try #require(app.durableQueue)
            let dead = try await queue.schedule(Flaky.self, .init(failures: 9))
            await log.waitForRuns(3)
            try await DurableTestDatabase.eventually("the job is dead") {
                try await queue.job(id: dead.id)?.state == .dead
            }
            #expect(try await queue.requeue(id: dead.id))
            await log.waitForRuns(6)
            try await DurableTestDatabase.eventually("the job is dead again") {
                try await queue.job(id: dead.id)?.state == .dead
            }
            #expect(try await queue.job(id: dead.id)?.attempts == 3, "attempts start again from zero")

            let fine = try await queue.schedule(Flaky.self, .init(failures: 0))
            await log.waitForRuns(7)
            try await DurableTestDatabase.eventually("the job succeeded") {
                try await queue.job(id: fine.id)?.state == .succeeded
            }
            #expect(try await queue.requeue(id: fine.id) == false)
            #expect(try await queue.requeue(id: "not-a-job") == false)
        }
        #expect(await log.runs.values.sorted() == [1, 6])
    }
}
