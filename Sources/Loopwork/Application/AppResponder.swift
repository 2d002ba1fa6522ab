import HTTPTypes
import Logging

/// The frozen request pipeline of a started app: middleware around the router. Shared read-only
/// by every worker loop.
///
/// Errors become responses where they are thrown, before the middleware around them unwinds: the
/// router's answer and every middleware's `next` is a response for every request (404, 405, 422
/// and 500 included), so CORS headers, request ids and access-log lines cover failures too.
package struct AppResponder: Sendable {
    let router: Router
    /// Never throws, although typed as a ``Responder``: each layer turns its own errors into
    /// responses.
    private let chain: Responder

    init(router: Router, middleware: [any Middleware]) {
        self.router = router
        // Every layer has the `Responder` type its middleware's `next` takes, and the chain is
        // built in a plain loop: a generic `reduce` would store each closure reabstracted, and a
        // non-throwing layer handed on as a throwing `next` would be wrapped again, each adding
        // a thunk with an async frame to every request.
        var chain: Responder = { [router] request in
            do {
                return try await Self.route(request, with: router)
            } catch {
                return Self.response(for: error, to: request, thrownBy: "handler")
            }
        }
        for middleware in middleware.reversed() {
            let next = chain
            chain = { request in
                do {
                    return try await middleware.respond(to: request, next: next)
                } catch {
                    return Self.response(for: error, to: request, thrownBy: "middleware \(type(of: middleware))")
                }
            }
        }
        self.chain = chain
    }

    private static func route(_ request: Request, with router: Router) async throws -> Response {
        var request = request
        let match = router.match(method: request.method, path: request.path)
        if case .found(let route, let parameters) = match {
            request.pathParameters = parameters
            request.context.setRoute(route.pattern.text)
            return try await route.responder(request)
        }
        // Asked only once no route matched: a route's own method is recognized.
        guard router.recognizes(request.method) else {
            throw HTTPError(.notImplemented, detail: "method \(request.method.rawValue) is not implemented")
        }
        if case .methodNotAllowed(let allowed) = match {
            var fields = HTTPFields()
            fields[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
            throw HTTPError(
                .methodNotAllowed, detail: "method \(request.method.rawValue) not allowed for \(request.path)",
                headerFields: fields)
        }
        throw HTTPError(.notFound, detail: "no route for \(request.path)")
    }

    /// An ``HTTPError`` answers with itself; any other error is logged and answered with a 500
    /// that does not reveal it.
    private static func response(for error: any Error, to request: Request, thrownBy source: String) -> Response {
        if let error = error as? HTTPError { return error.response }
        request.context.logger.error(
            "\(source) failed",
            metadata: [
                "route": "\(request.context.route ?? request.path)",
                "method": "\(request.method.rawValue)",
                "error": "\(String(reflecting: error))",
            ])
        return HTTPError(.internalServerError, detail: "Internal Server Error").response
    }

    /// Answers `request`.
    package func respond(to request: Request) async -> Response {
        do {
            return try await chain(request)
        } catch {
            // Unreachable: the innermost layer and every middleware's layer catch.
            return Self.response(for: error, to: request, thrownBy: "middleware chain")
        }
    }
}
