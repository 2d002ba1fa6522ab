public import ArgumentParser
import Logging
import Loopwork
import ServiceLifecycle
import UnixSignals

/// `loopwork-demo`: the demo server used by the README, the Dockerfile and the integration tests.
@main
struct DemoCommand: AsyncParsableCommand {
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

    @Option(help: "At shutdown, how long idle keep-alive connections stay open to answer a late request, in milliseconds.")
    var drainWindowMs = 500

    @Option(help: "Instead of serving, GET this URL and exit 0 on a 2xx answer, 1 otherwise (for container health checks).")
    var healthCheck: String?

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard (0...60_000).contains(drainWindowMs) else { throw ValidationError("--drain-window-ms must be between 0 and 60000") }
    }

    func run() async throws {
        if let healthCheck {
            let healthy = await HealthCheck.probe(healthCheck)
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
            configuration: AppConfiguration(host: host, port: port, workers: workers,
                                             shutdownDrainWindow: .milliseconds(drainWindowMs),
                                             serverName: "loopwork-demo"),
            logger: logger)
        DemoRoutes.install(on: app, staticDir: staticDir)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
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

extension Logger.Level: @retroactive ExpressibleByArgument {}
