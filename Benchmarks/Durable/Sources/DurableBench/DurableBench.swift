import ArgumentParser
import Logging
import Loopwork
import LoopworkDurable

/// The benchmark's job: nothing, so that what is measured is the queue.
struct NoOp: DurableJob {
    static let name = "noop"
    struct Parameters: Codable, Sendable {
        let n: Int
    }

    func run(_ parameters: Parameters, context: JobContext) async throws {}
}

@main
struct DurableBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "durable-bench",
        abstract: "Loopwork's durable queue under load, for run-durable-bench.sh.",
        subcommands: [Work.self, Produce.self, Serve.self])
}

struct QueueOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL.")
    var postgres: String

    @Option(help: "Jobs run at once by this instance.")
    var concurrency = 16

    @Option(help: "Connections per event loop.")
    var connections = 4

    /// An app on one loop, logging at info (no access log: no middleware): the instance under test.
    func app(runsWorkers: Bool, port: Int = 0) throws -> App {
        var logger = Logger(label: "durable-bench")
        logger.logLevel = .info
        let app = App(configuration: AppConfiguration(host: "127.0.0.1", port: port, workers: 1), logger: logger)
        let configuration = DurableTasksConfiguration(
            runsWorkers: runsWorkers, concurrency: concurrency, connectionsPerLoop: connections)
        try app.addDurableTasks(postgres: postgres, jobs: [NoOp()], configuration: configuration)
        return app
    }
}

/// Runs workers until SIGTERM.
struct Work: AsyncParsableCommand {
    @OptionGroup var queue: QueueOptions

    func run() async throws {
        try await queue.app(runsWorkers: true).runUntilSignalled()
    }
}

/// Schedules `count` jobs, each its own transaction as a request's would be, from `producers`
/// concurrent tasks; prints the schedule rate.
struct Produce: AsyncParsableCommand {
    @OptionGroup var queue: QueueOptions

    @Option(help: "Jobs to schedule.")
    var count = 10_000

    @Option(help: "Concurrent schedulers.")
    var producers = 16

    func run() async throws {
        let app = try queue.app(runsWorkers: false)
        let running = try await app.start()
        guard let durable = app.durableQueue else { throw ValidationError("no durable queue") }
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for producer in 0..<producers {
                group.addTask {
                    for n in stride(from: producer, to: count, by: producers) {
                        try await durable.schedule(NoOp.self, .init(n: n))
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("scheduled \(count) in \(seconds) s: \(Int(Double(count) / seconds)) jobs/s")
        await running.shutdown()
    }
}

/// Serves `POST /scheduled` (an immediate durable schedule, then a small JSON answer) and
/// `POST /unscheduled` (the same answer without it), for the latency a schedule adds.
struct Serve: AsyncParsableCommand {
    @OptionGroup var queue: QueueOptions

    @Option(help: "Port to bind.")
    var port = 8090

    func run() async throws {
        let app = try queue.app(runsWorkers: true, port: port)
        app.post("/scheduled") { (jobs: DurableTasks<NoOp>) in
            let job = try await jobs.schedule(.init(n: 0))
            return ["job": job.id]
        }
        app.post("/unscheduled") { ["job": "00000000-0000-0000-0000-000000000000"] }
        try await app.runUntilSignalled()
    }
}
