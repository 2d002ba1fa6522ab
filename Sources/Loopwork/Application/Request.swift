public import HTTPTypes

/// One HTTP request as a handler, a middleware or a dependency sees it.
///
/// The body is complete when the handler runs: the server reads it (within the configured body
/// limit) before routing, so extractors such as ``JSONBody`` can decode it synchronously.
public struct Request: Sendable {
    /// The method, path and header fields, in swift-http-types' form.
    public var head: HTTPRequest
    /// The request body bytes; empty when the request had none.
    public var body: [UInt8]
    /// The path without its query string, as sent (percent-encoding intact).
    public var path: String
    /// Decoded query parameters, in the order they appeared.
    public var query: QueryParameters
    /// Values captured by `{name}` segments of the matched route.
    public var pathParameters: PathParameters
    /// The per-request state shared by every dependency of this request.
    public let context: RequestContext

    /// Creates a request; the server and the test client build these, handlers receive them.
    ///
    /// - Parameters:
    ///   - head: The parsed request head.
    ///   - body: The complete body.
    ///   - context: Per-request state; see ``RequestContext``.
    public init(head: HTTPRequest, body: [UInt8] = [], context: RequestContext) {
        self.head = head
        self.body = body
        let target = head.path ?? "/"
        if let questionMark = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            self.path = String(target[..<questionMark])
            self.query = QueryParameters(parsing: target[target.index(after: questionMark)...])
        } else {
            self.path = target
            self.query = QueryParameters()
        }
        self.pathParameters = PathParameters()
        self.context = context
    }

    /// The request method.
    public var method: HTTPRequest.Method { head.method }

    /// The request's header fields.
    public var headerFields: HTTPFields { head.headerFields }
}
