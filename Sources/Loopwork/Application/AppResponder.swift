import HTTPTypes
import Logging

/// The frozen request pipeline of a started app: middleware around the router, and the
/// translation of errors into responses. Shared read-only by every worker loop.
package struct AppResponder: Sendable {
    let router: Router
    private let chain: Responder

    init(router: Router, middleware: [any Middleware]) {
        self.router = router
        let routing: Responder = { [router] request in
            var request = request
            switch router.match(method: request.method, path: request.path) {
            case .found(let route, let parameters):
                request.pathParameters = parameters
                request.context.setRoute(route.pattern.text)
                return try await route.responder(request)
            case .methodNotAllowed(let allowed):
                var fields = HTTPFields()
                fields[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
                throw HTTPError(.methodNotAllowed, detail: "method \(request.method.rawValue) not allowed for \(request.path)", headerFields: fields)
            case .notFound:
                throw HTTPError(.notFound, detail: "no route for \(request.path)")
            }
        }
        chain = middleware.reversed().reduce(routing) { next, middleware in
            { request in try await middleware.respond(to: request, next: next) }
        }
    }

    /// Answers `request`; never throws. A handler's ``HTTPError`` becomes its response; any
    /// other error is logged and answered with a 500 that does not reveal it.
    package func respond(to request: Request) async -> Response {
        do {
            return try await chain(request)
        } catch let error as HTTPError {
            return error.response
        } catch {
            request.context.logger.error("handler failed", metadata: [
                "route": "\(request.context.route ?? request.path)",
                "method": "\(request.method.rawValue)",
                "error": "\(String(reflecting: error))",
            ])
            return HTTPError(.internalServerError, detail: "Internal Server Error").response
        }
    }
}
