public import Logging
import LoopworkUV

/// A Loopwork application: routes, middleware, services and how to serve them.
///
/// Configure it fully before starting it: register routes and middleware, call `addTasks()` if
/// handlers use ``Tasks``. Starting freezes the configuration and checks it; a route that asks
/// for something the app does not provide stops the start with an error naming the route.
///
/// ```swift
/// let app = App(configuration: AppConfiguration(port: 8080))
/// app.get("/hello") { "Hello, World!" }
/// try app.runUntilSignalled()
/// ```
public final class App: RouteRegistering, Sendable {
    /// How the app listens; fixed when the app is created.
    public let configuration: AppConfiguration
    /// The app's logger; per-request loggers derive from it.
    public let logger: Logger
    /// The app's services (the task supervisor among them).
    package let services = AppServices()
    private let routeTable = RouteTable()
    private let state = Locked(State())

    private struct State {
        var middleware: [any Middleware] = []
        var shutdownHooks: [@Sendable () async -> Void] = []
    }

    /// Creates an app.
    ///
    /// - Parameters:
    ///   - configuration: Address, workers, limits and timeouts.
    ///   - logger: The logger for the app and, with a request id added, for each request. The
    ///     library logs nothing per request at the default level.
    public init(configuration: AppConfiguration = AppConfiguration(), logger: Logger = Logger(label: "loopwork")) {
        self.configuration = configuration
        self.logger = logger
    }

    public var registration: RouteRegistration {
        RouteRegistration(table: routeTable, prefix: "")
    }

    /// Adds `middleware` inside any added before it.
    public func add(middleware: some Middleware) {
        state.withLock { $0.middleware.append(middleware) }
    }

    /// Runs `hook` at shutdown, after in-flight requests and background tasks have been handled
    /// and before the event loops close.
    public func onShutdown(_ hook: @escaping @Sendable () async -> Void) {
        state.withLock { $0.shutdownHooks.append(hook) }
    }

    /// Freezes the configuration and checks it: registration errors and every route's
    /// dependencies against the installed services.
    package func prepare() throws -> AppResponder {
        let router = try routeTable.freeze()
        for route in router.routes {
            try route.checkDependencies(DependencyEnvironment(route: route.description, services: services))
        }
        for service in services.all {
            try service.appWillStart(logger: logger)
        }
        return AppResponder(router: router, middleware: state.withLock { $0.middleware })
    }

    package var shutdownHooks: [@Sendable () async -> Void] {
        state.withLock { $0.shutdownHooks }
    }
}
