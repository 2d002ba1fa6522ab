public import HTTPTypes

// One-line conveniences over `on(_:_:use:)`, one per method and result form.
extension RouteRegistering {
    /// Registers a `GET` route; see ``RouteRegistering``.
    public func get<each D: RequestDependency, Result: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.get, path, use: handler) }

    /// Registers a `GET` route; see ``RouteRegistering``.
    @_disfavoredOverload
    public func get<each D: RequestDependency, Result: Encodable & Sendable>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.get, path, use: handler) }

    /// Registers a `GET` route; see ``RouteRegistering``.
    public func get<each D: RequestDependency, Body: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> (HTTPResponse.Status, Body)
    ) { on(.get, path, use: handler) }

    /// Registers a `GET` route; see ``RouteRegistering``.
    @_disfavoredOverload
    public func get<each D: RequestDependency, Body: Encodable & Sendable>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> (HTTPResponse.Status, Body)
    ) { on(.get, path, use: handler) }

    /// Registers a `POST` route; see ``RouteRegistering``.
    public func post<each D: RequestDependency, Result: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.post, path, use: handler) }

    /// Registers a `POST` route; see ``RouteRegistering``.
    @_disfavoredOverload
    public func post<each D: RequestDependency, Result: Encodable & Sendable>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.post, path, use: handler) }

    /// Registers a `POST` route; see ``RouteRegistering``.
    public func post<each D: RequestDependency, Body: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> (HTTPResponse.Status, Body)
    ) { on(.post, path, use: handler) }

    /// Registers a `POST` route; see ``RouteRegistering``.
    @_disfavoredOverload
    public func post<each D: RequestDependency, Body: Encodable & Sendable>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> (HTTPResponse.Status, Body)
    ) { on(.post, path, use: handler) }

    /// Registers a `PUT` route; see ``RouteRegistering``.
    public func put<each D: RequestDependency, Result: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.put, path, use: handler) }

    /// Registers a `PUT` route; see ``RouteRegistering``.
    @_disfavoredOverload
    public func put<each D: RequestDependency, Result: Encodable & Sendable>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.put, path, use: handler) }

    /// Registers a `PUT` route; see ``RouteRegistering``.
    public func put<each D: RequestDependency, Body: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> (HTTPResponse.Status, Body)
    ) { on(.put, path, use: handler) }

    /// Registers a `PUT` route; see ``RouteRegistering``.
    @_disfavoredOverload
    public func put<each D: RequestDependency, Body: Encodable & Sendable>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> (HTTPResponse.Status, Body)
    ) { on(.put, path, use: handler) }

    /// Registers a `PATCH` route; see ``RouteRegistering``.
    public func patch<each D: RequestDependency, Result: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.patch, path, use: handler) }

    /// Registers a `PATCH` route; see ``RouteRegistering``.
    @_disfavoredOverload
    public func patch<each D: RequestDependency, Result: Encodable & Sendable>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.patch, path, use: handler) }

    /// Registers a `PATCH` route; see ``RouteRegistering``.
    public func patch<each D: RequestDependency, Body: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> (HTTPResponse.Status, Body)
    ) { on(.patch, path, use: handler) }

    /// Registers a `PATCH` route; see ``RouteRegistering``.
    @_disfavoredOverload
    public func patch<each D: RequestDependency, Body: Encodable & Sendable>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> (HTTPResponse.Status, Body)
    ) { on(.patch, path, use: handler) }

    /// Registers a `DELETE` route; see ``RouteRegistering``.
    public func delete<each D: RequestDependency, Result: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.delete, path, use: handler) }

    /// Registers a `DELETE` route; see ``RouteRegistering``.
    @_disfavoredOverload
    public func delete<each D: RequestDependency, Result: Encodable & Sendable>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.delete, path, use: handler) }

    /// Registers a `DELETE` route; see ``RouteRegistering``.
    public func delete<each D: RequestDependency, Body: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> (HTTPResponse.Status, Body)
    ) { on(.delete, path, use: handler) }

    /// Registers a `DELETE` route; see ``RouteRegistering``.
    @_disfavoredOverload
    public func delete<each D: RequestDependency, Body: Encodable & Sendable>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> (HTTPResponse.Status, Body)
    ) { on(.delete, path, use: handler) }

    /// Registers a `HEAD` route; see ``RouteRegistering``.
    public func head<each D: RequestDependency, Result: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.head, path, use: handler) }

    /// Registers a `HEAD` route; see ``RouteRegistering``.
    @_disfavoredOverload
    public func head<each D: RequestDependency, Result: Encodable & Sendable>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.head, path, use: handler) }

    /// Registers a `HEAD` route; see ``RouteRegistering``.
    public func head<each D: RequestDependency, Body: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> (HTTPResponse.Status, Body)
    ) { on(.head, path, use: handler) }

    /// Registers a `HEAD` route; see ``RouteRegistering``.
    @_disfavoredOverload
    public func head<each D: RequestDependency, Body: Encodable & Sendable>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> (HTTPResponse.Status, Body)
    ) { on(.head, path, use: handler) }

    /// Registers a `OPTIONS` route; see ``RouteRegistering``.
    public func options<each D: RequestDependency, Result: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.options, path, use: handler) }

    /// Registers a `OPTIONS` route; see ``RouteRegistering``.
    @_disfavoredOverload
    public func options<each D: RequestDependency, Result: Encodable & Sendable>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) { on(.options, path, use: handler) }

    /// Registers a `OPTIONS` route; see ``RouteRegistering``.
    public func options<each D: RequestDependency, Body: ResponseConvertible>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> (HTTPResponse.Status, Body)
    ) { on(.options, path, use: handler) }

    /// Registers a `OPTIONS` route; see ``RouteRegistering``.
    @_disfavoredOverload
    public func options<each D: RequestDependency, Body: Encodable & Sendable>(
        _ path: String, use handler: @escaping @Sendable (repeat each D) async throws -> (HTTPResponse.Status, Body)
    ) { on(.options, path, use: handler) }
}
