public import ArgumentParser
import Logging
import Loopwork
import LoopworkDurable

/// `loopwork-demo`: the demo server used by the README, the Dockerfile and the integration tests.
///
/// A synchronous command that blocks its main thread in `runUntilSignalled()`, as the README's
/// `main.swift` does. An `async` main would end the main thread instead: the runtime hands the
/// process to the concurrency pool through `dispatch_main`, whose `pthread_exit` makes glibc load
/// libgcc_s and unwind the main thread through the executable's unwind tables, which then stay
/// resident: 1.5 MiB of the idle demo's 13.6 MiB.
@main
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loopwork-demo",
        abstract: "Serves the Loopwork demo endpoints until SIGINT or SIGTERM.")

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind (0 picks a free one and prints it).")
    var port = 8080

    @Option(help: "Event-loop threads; defaults to the CPUs this process may use.")
    var workers: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "The directory served under /files/; defaults to the demo's bundled folder.")
    var staticDir: String = DemoCommand.bundledStaticDir

    @Option(
        help: "At shutdown, how long idle keep-alive connections stay open to answer a late request, in milliseconds.")
    var drainWindowMs = 500

    @OptionGroup(title: "Durable tasks")
    var durable: DurableOptions

    @Option(
        help: "Instead of serving, GET this URL and exit 0 on a 2xx answer, 1 otherwise (for container health checks).")
    var healthCheck: String?

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (0...60_000).contains(drainWindowMs) else {
            throw ValidationError("--drain-window-ms must be between 0 and 60000")
        }
    }

    func run() throws {
        if let healthCheck {
            let healthy = HealthCheck.probe(healthCheck)
            throw ExitCode(healthy ? 0 : 1)
        }
        let level = logLevel
        LoggingSystem.bootstrap { label in
            // Batched by a writer thread: the access log costs the loops a copy per line.
            var handler = BufferedLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "loopwork-demo")
        let app = App(
            configuration: AppConfiguration(
                host: host, port: port, workers: workers,
                shutdownDrainWindow: .milliseconds(drainWindowMs),
                serverName: "loopwork-demo"),
            logger: logger)
        if let postgres = durable.postgres {
            try app.addDurableTasks(
                postgres: postgres, jobs: [durable.welcomeJob], configuration: durable.configuration)
            if durable.durableWorkersOnly {
                DemoRoutes.installWorkerRoutes(on: app)
            } else {
                DemoRoutes.install(on: app, staticDir: staticDir)
                DemoRoutes.installDurableRoutes(on: app)
            }
        } else {
            DemoRoutes.install(on: app, staticDir: staticDir)
        }
        try app.runUntilSignalled()
    }
}

extension DemoCommand {
    /// `Sources/LoopworkDemo/Static` in the tree the demo was built from.
    static var bundledStaticDir: String {
        let source = #filePath
        guard let slash = source.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "Static" }
        return String(source[..<slash]) + "/Static"
    }
}

/// The options that turn on `POST /signup` and `GET /jobs/{id}`, and the workers-only mode.
struct DurableOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL (postgres://user@host:port/db); enables POST /signup and GET /jobs/{id}.")
    var postgres: String?

    @Flag(help: "Serve no endpoints but /healthz and GET /jobs/{id}: only work the durable queue.")
    var durableWorkersOnly = false

    @Option(help: "The PostgreSQL schema that holds the queue.")
    var durableSchema = "loopwork"

    @Option(help: "Durable jobs this instance runs at once.")
    var durableConcurrency = 16

    @Option(help: "Seconds a job's lease lasts: how long a job of a dead instance waits before another runs it.")
    var durableLeaseSeconds = 30

    @Option(help: "The simulated mail server's latency for the welcome email, in milliseconds.")
    var welcomeDelayMs = 0

    func validate() throws {
        if durableWorkersOnly && postgres == nil { throw ValidationError("--durable-workers-only needs --postgres") }
        guard durableConcurrency >= 1 else { throw ValidationError("--durable-concurrency must be at least 1") }
        guard (3...3600).contains(durableLeaseSeconds) else {
            throw ValidationError("--durable-lease-seconds must be between 3 and 3600")
        }
        guard (0...600_000).contains(welcomeDelayMs) else {
            throw ValidationError("--welcome-delay-ms must be between 0 and 600000")
        }
    }

    var welcomeJob: SendWelcomeEmail { SendWelcomeEmail(mailServerLatency: .milliseconds(welcomeDelayMs)) }

    var configuration: DurableTasksConfiguration {
        DurableTasksConfiguration(
            schema: durableSchema, concurrency: durableConcurrency, leaseDuration: .seconds(durableLeaseSeconds))
    }
}

// Retroactive on purpose: the demo's `--log-level` parses swift-log's levels, and neither
// package will declare the conformance for the other; only this executable sees it.
// swift-format-ignore: AvoidRetroactiveConformances
extension Logger.Level: @retroactive ExpressibleByArgument {}
