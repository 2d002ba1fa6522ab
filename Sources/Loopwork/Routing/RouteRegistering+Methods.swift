import HTTPTypes

// One-line conveniences over `on(_:_:use:)`, one per method.
extension RouteRegistering {
    /// Registers a `GET` route; see ``RouteRegistering``.
    public func get<each D: RequestDependency, Result: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.get, path, use: handler) }

    /// Registers a `POST` route; see ``RouteRegistering``.
    public func post<each D: RequestDependency, Result: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.post, path, use: handler) }

    /// Registers a `PUT` route; see ``RouteRegistering``.
    public func put<each D: RequestDependency, Result: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.put, path, use: handler) }

    /// Registers a `PATCH` route; see ``RouteRegistering``.
    public func patch<each D: RequestDependency, Result: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.patch, path, use: handler) }

    /// Registers a `DELETE` route; see ``RouteRegistering``.
    public func delete<each D: RequestDependency, Result: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.delete, path, use: handler) }

    /// Registers a `HEAD` route; see ``RouteRegistering``.
    public func head<each D: RequestDependency, Result: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.head, path, use: handler) }

    /// Registers an `OPTIONS` route; see ``RouteRegistering``.
    public func options<each D: RequestDependency, Result: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.options, path, use: handler) }
}
