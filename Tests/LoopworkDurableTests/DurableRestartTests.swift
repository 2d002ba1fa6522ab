import Foundation
import Loopwork
import LoopworkDurable
import LoopworkPostgres
import LoopworkTesting
import Testing

/// Takes a few milliseconds, so that a queue of them is still being worked when the database
/// goes away.
struct Paced: DurableJob {
    static let name = "paced"
    static var options: DurableJobOptions {
        DurableJobOptions(maxAttempts: 3, retryDelay: .milliseconds(10), maximumRetryDelay: .milliseconds(100))
    }
    struct Parameters: Codable, Sendable { let n: Int }
    let log: JobLog
    func run(_ parameters: Parameters, context: JobContext) async throws {
        try await Task.sleep(for: .milliseconds(5))
        await log.record(context, "\(parameters.n)")
    }
}

@Suite(
    "Durable tasks: the database restarts",
    .enabled(if: DurableTestDatabase.isAvailable, DurableTestDatabase.skipReason))
struct DurableRestartTests {
    @Test("jobs queued while the database stops and starts again all run, none lost")
    func databaseRestart() async throws {
        // A server of its own: stopping the shared one would fail the tests running beside this.
        let server = try await PrivateServer.start()
        do {
            try await workThroughRestart(server)
            try await server.remove()
        } catch {
            try? await server.remove()
            throw error
        }
    }

    private func workThroughRestart(_ server: PrivateServer) async throws {
        let log = JobLog()
        let schema = DurableTestDatabase.freshSchema()
        let total = 400
        // A lease longer than the outage: outcomes that could not be recorded while the server
        // was down are recorded once it is back, so no job needs to run twice.
        let app = try DurableTestDatabase.app(schema: schema, jobs: [Paced(log: log)], server: server.url) {
            $0.concurrency = 4
            $0.leaseDuration = .seconds(20)
        }
        try await app.test(.router) { _ in
            try await DurableTestDatabase.sql(
                """
                INSERT INTO \(schema).jobs (name, parameters, state, max_attempts)
                SELECT 'paced', json_build_object('n', n)::text, 'queued', 3 FROM generate_series(1, \(total)) AS n
                """, server: server.url)
            await log.waitForRuns(total / 8)
            try await server.halt()
            let ranBeforeRestart = await log.total
            #expect(ranBeforeRestart < total, "the queue was still being worked when the server stopped")
            // The outage's length, not a wait for something: long enough that claims, outcomes
            // and the LISTEN connection all fail and back off, rather than reconnect at once.
            try await Task.sleep(for: .seconds(1))
            try await server.resume()
            await log.waitForRuns(total)
            try await DurableTestDatabase.eventually(within: .seconds(60), "every job is recorded as succeeded") {
                let rows = try await DurableTestDatabase.sql(
                    "SELECT count(*)::int AS n FROM \(schema).jobs WHERE state = 'succeeded'", server: server.url)
                return try rows[0].decode("n", as: Int.self) == total
            }
        }
        let runs = await log.runs
        #expect(runs.count == total, "every job ran")
        #expect(runs.values.allSatisfy { $0 == 1 }, "no job ran twice: \(runs.filter { $0.value > 1 }.count) did")
        #expect(Set(await log.parameters).count == total)
    }
}

/// A PostgreSQL cluster of one test's own, made by `scripts/test-postgres.sh`.
struct PrivateServer {
    let url: String
    let directory: String

    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/test-postgres.sh").path

    static func start() async throws -> PrivateServer {
        let exports = try await run(["start"])
        func value(_ name: String) -> String? {
            exports.split(separator: "\n").first { $0.hasPrefix("export \(name)=") }
                .map { String($0.dropFirst("export \(name)=".count)) }
        }
        guard let url = value("LOOPWORK_TEST_POSTGRES_URL"), let directory = value("LOOPWORK_TEST_POSTGRES_DIR") else {
            throw ScriptError(description: "test-postgres.sh start printed no server: \(exports)")
        }
        return PrivateServer(url: url, directory: directory)
    }

    func halt() async throws { _ = try await Self.run(["halt", directory]) }
    func resume() async throws { _ = try await Self.run(["resume", directory]) }
    func remove() async throws { _ = try await Self.run(["stop", directory]) }

    struct ScriptError: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs the script with its output in files, not pipes: the server it starts inherits the
    /// script's descriptors and keeps them open, so a pipe would never reach its end.
    private static func run(_ arguments: [String]) async throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "loopwork-script-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let stdout = folder.appendingPathComponent("stdout")
        let stderr = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        let (ended, ending) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { process in
            ending.yield(process.terminationStatus)
            ending.finish()
        }
        try process.run()
        var status: Int32 = -1
        for await value in ended { status = value }
        let output = try String(contentsOf: stdout, encoding: .utf8)
        guard status == 0 else {
            let errors = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
            throw ScriptError(
                description: "test-postgres.sh \(arguments.joined(separator: " ")) exited \(status): \(errors)")
        }
        return output
    }
}
