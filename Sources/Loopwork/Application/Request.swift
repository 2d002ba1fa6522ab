public import HTTPTypes

/// One HTTP request as a handler, a middleware or a dependency sees it.
///
/// The handler runs once the head is parsed; the body arrives as a stream (``RequestBody``), which
/// the whole-body extractors such as ``JSONBody`` collect within the body limit.
public struct Request: Sendable {
    /// The method, path and header fields, in swift-http-types' form.
    public var head: HTTPRequest
    /// The request body, read as it arrives; empty when the request had none.
    public var body: RequestBody
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
    ///   - body: The body; ``RequestBody/init(bytes:)`` for one already in memory.
    ///   - context: Per-request state; see ``RequestContext``.
    public init(head: HTTPRequest, body: RequestBody = .empty, context: RequestContext) {
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
