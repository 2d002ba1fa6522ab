import Foundation
import Logging
import Loopwork
import LoopworkDurable
import LoopworkPostgres
import LoopworkUV
import Metrics
import Testing

/// The throwaway server `scripts/test-postgres.sh` started, and a schema of its own per test so
/// tests run side by side without seeing each other's jobs.
enum DurableTestDatabase {
    static let url = ProcessInfo.processInfo.environment["LOOPWORK_TEST_POSTGRES_URL"]
    static var isAvailable: Bool { url != nil }
    static let skipReason: Comment = "needs LOOPWORK_TEST_POSTGRES_URL (scripts/test.sh starts a server)"

    static func freshSchema() -> String {
        "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    }

    static func configuration(schema: String, _ adjust: (inout DurableTasksConfiguration) -> Void = { _ in })
        -> DurableTasksConfiguration
    {
        var configuration = DurableTasksConfiguration(
            schema: schema, leaseDuration: .seconds(3),
            pollInterval: .milliseconds(200), shutdownDeadline: .seconds(2))
        adjust(&configuration)
        return configuration
    }

    static func app(
        schema: String, jobs: [any DurableJob], server: String? = nil, logs: LogLines? = nil,
        metrics: (any MetricsFactory)? = nil,
        _ adjust: (inout DurableTasksConfiguration) -> Void = { _ in }
    ) throws -> App {
        var logger =
            logs.map { lines in Logger(label: "durable-test") { _ in LogLines.Handler(lines: lines) } }
            ?? Logger(label: "durable-test")
        logger.logLevel =
            logs != nil ? .info : ProcessInfo.processInfo.environment["DURABLE_TEST_LOG"] == nil ? .critical : .debug
        let app = App(configuration: AppConfiguration(host: "127.0.0.1", port: 0, workers: 1), logger: logger)
        try app.addDurableTasks(
            postgres: server ?? url ?? "", jobs: jobs, configuration: configuration(schema: schema, adjust),
            metricsFactory: metrics)
        return app
    }

    /// Runs SQL against the test database directly, as another client of the queue would.
    @discardableResult
    static func sql(_ text: String, _ parameters: [(any PostgresParameter)?] = [], server: String? = nil) async throws
        -> PostgresRows
    {
        let loop = try EventLoop(name: "durable-test-sql")
        do {
            let connection = try await PostgresConnection.connect(PostgresConfiguration(server ?? url ?? ""), on: loop)
            let rows = try await connection.query(text, parameters)
            await connection.close()
            await loop.shutdownGracefully()
            return rows
        } catch {
            await loop.shutdownGracefully()
            throw error
        }
    }

    /// Waits until `condition` holds, checking every 20 ms, for at most `limit`: for states another
    /// process (the database, a worker) reaches on its own schedule.
    static func eventually(
        within limit: Duration = .seconds(15), _ what: String,
        _ condition: @Sendable () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting until \(what)")
    }
}

/// What jobs did, for tests to assert on: runs per job id, and waiters for a count of runs.
actor JobLog {
    private(set) var runs: [String: Int] = [:]
    private(set) var parameters: [String] = []
    private var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    var total: Int { runs.values.reduce(0, +) }

    func record(_ context: JobContext, _ parameter: String) {
        runs[context.jobID, default: 0] += 1
        parameters.append(parameter)
        let total = self.total
        waiters.removeAll { waiter in
            guard total >= waiter.count else { return false }
            waiter.continuation.resume()
            return true
        }
    }

    /// Returns once `count` runs in all were recorded.
    func waitForRuns(_ count: Int) async {
        if total >= count { return }
        await withCheckedContinuation { waiters.append((count, $0)) }
    }
}

struct Greet: DurableJob {
    static let name = "greet"
    struct Parameters: Codable, Sendable { let who: String }
    let log: JobLog
    func run(_ parameters: Parameters, context: JobContext) async throws {
        await log.record(context, parameters.who)
    }
}

/// The lines an app logged, for tests that check what it reported.
final class LogLines: @unchecked Sendable {
    // @unchecked: `lines` is only read and written while holding `lock`.
    private let lock = NSLock()
    private var lines: [String] = []

    var all: [String] { lock.withLock { lines } }

    struct Handler: LogHandler {
        let lines: LogLines
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }
            let line =
                "\(event.level) \(event.message) " + fields.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            lines.lock.withLock { lines.lines.append(line) }
        }
    }
}
