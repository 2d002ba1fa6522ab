public import HTTPTypes

/// Answers CORS preflights and adds `Access-Control-Allow-Origin` to responses for allowed
/// origins. Requests without an `Origin` field pass through untouched.
public struct CORSMiddleware: Middleware {
    /// Which origins may call the API.
    public enum AllowedOrigins: Sendable {
        /// Any origin (`*`); credentials are then never allowed, as browsers require.
        case any
        /// Exactly these origins, e.g. `https://app.example.com`.
        case only(Set<String>)
    }

    /// The allowed origins.
    public var origins: AllowedOrigins
    /// Methods announced in preflight answers.
    public var methods: [HTTPRequest.Method]
    /// Request fields a browser may send.
    public var allowedHeaders: [String]
    /// How long a browser may cache a preflight answer, in seconds.
    public var maxAge: Int

    /// Creates the middleware.
    public init(
        origins: AllowedOrigins, methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete],
        allowedHeaders: [String] = ["Content-Type", "Authorization"], maxAge: Int = 600
    ) {
        self.origins = origins
        self.methods = methods
        self.allowedHeaders = allowedHeaders
        self.maxAge = maxAge
    }

    public func respond(to request: Request, next: Responder) async throws -> Response {
        guard let origin = request.headerFields[.origin] else { return try await next(request) }
        let allowedOrigin: String?
        switch origins {
        case .any: allowedOrigin = "*"
        case .only(let set): allowedOrigin = set.contains(origin) ? origin : nil
        }
        guard let allowedOrigin else { return try await next(request) }
        if request.method == .options, request.headerFields[.accessControlRequestMethod] != nil {
            var response = Response(status: .noContent)
            response.headerFields[.accessControlAllowOrigin] = allowedOrigin
            response.headerFields[.accessControlAllowMethods] = methods.map(\.rawValue).joined(separator: ", ")
            response.headerFields[.accessControlAllowHeaders] = allowedHeaders.joined(separator: ", ")
            response.headerFields[.accessControlMaxAge] = String(maxAge)
            if allowedOrigin != "*" { response.headerFields[.vary] = "Origin" }
            return response
        }
        var response = try await next(request)
        response.headerFields[.accessControlAllowOrigin] = allowedOrigin
        if allowedOrigin != "*" { response.headerFields[.vary] = "Origin" }
        return response
    }
}
