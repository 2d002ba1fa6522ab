/// A value a handler receives by declaring a parameter of its type, like a FastAPI dependency.
///
/// The framework resolves each parameter of a handler from the request before calling it. Conform
/// your own types to inject them; throw ``HTTPError`` from ``resolve(from:)`` to answer the request
/// with a 4xx instead of calling the handler.
///
/// ```swift
/// struct CurrentUser: RequestDependency {
///     let name: String
///     static func resolve(from request: Request) async throws -> CurrentUser {
///         guard let name = request.headerFields[.authorization] else { throw HTTPError(.unauthorized) }
///         return CurrentUser(name: name)
///     }
/// }
/// ```
public protocol RequestDependency: Sendable {
    /// Produces the value for one request.
    static func resolve(from request: Request) async throws -> Self

    /// Checked once per route when the app starts, so a route that needs a missing service
    /// fails the start instead of every request. The default accepts every app.
    ///
    /// - Parameter environment: What the app provides, and the route being checked.
    static func checkAvailability(in environment: DependencyEnvironment) throws
}

extension RequestDependency {
    public static func checkAvailability(in environment: DependencyEnvironment) throws {}
}

/// What a dependency may inspect when the app starts: the route it serves and the app's services.
public struct DependencyEnvironment: Sendable {
    /// The route, as `"POST /orders"`.
    public let route: String
    /// Package-visible so that other modules' dependencies can look their service up; only the app
    /// creates environments (with the implicit initializer).
    package let services: AppServices
}

/// The app cannot start because of how it was configured.
public struct AppConfigurationError: Error, CustomStringConvertible, Sendable {
    /// What is wrong and how to fix it.
    public let message: String

    /// Creates the error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
