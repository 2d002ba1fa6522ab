/// The rest of the chain, as a middleware sees it: call it to get the inner response.
///
/// It answers every request with a response: an error thrown further in (by the handler, the
/// router or an inner middleware) has already become its response — an ``HTTPError`` its own,
/// any other error a logged 500 — so a middleware that adjusts responses covers failures too.
/// It is `throws` so that middleware can be written with `try`; in practice it does not throw.
public typealias Responder = @Sendable (Request) async throws -> Response

/// Code that runs around every request, in the order middleware was added (the first added is
/// the outermost). It may change the request, answer on its own, or change the response.
///
/// Middleware sees every request the router sees, and a response for each: 404, 405, 422 and
/// 500 included, so cross-cutting concerns (CORS, request ids, access logs) hold for failures and
/// for any path. An error a middleware throws becomes a response before the middleware around it
/// sees it, in the same way.
public protocol Middleware: Sendable {
    /// Handles `request`, usually by calling `next` and adjusting its response.
    func respond(to request: Request, next: Responder) async throws -> Response
}
