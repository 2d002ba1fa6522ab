/// The rest of the chain, as a middleware sees it: call it to get the inner response.
public typealias Responder = @Sendable (Request) async throws -> Response

/// Code that runs around every request, in the order middleware was added (the first added is
/// the outermost). It may change the request, answer on its own, or change the response.
///
/// Middleware sees every request the router sees, including those that end in 404 or 405, so
/// cross-cutting concerns such as CORS preflights work for any path.
public protocol Middleware: Sendable {
    /// Handles `request`, usually by calling `next` and adjusting its response.
    func respond(to request: Request, next: Responder) async throws -> Response
}
