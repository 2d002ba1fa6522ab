public import HTTPTypes

/// Echoes the request id in an `X-Request-ID` response field, so clients can quote it.
///
/// The id is the client's own `X-Request-ID` when it sent one, else one the server made.
public struct RequestIDMiddleware: Middleware {
    /// Creates the middleware.
    public init() {}

    /// The `X-Request-ID` field name.
    public static let field = HTTPField.Name("X-Request-ID")!

    public func respond(to request: Request, next: Responder) async throws -> Response {
        var response = try await next(request)
        response.headerFields[Self.field] = request.context.requestID
        return response
    }
}
