public import HTTPTypes

/// A response: status, header fields and a body, in memory or streamed (see ``ResponseBody``).
///
/// The server adds the framing fields (`Content-Length` or `Transfer-Encoding`), `Date` and
/// connection fields when it serializes the response; a handler sets only what is specific to it.
public struct Response: Sendable {
    /// The status line's status.
    public var status: HTTPResponse.Status
    /// Header fields the handler chose.
    public var headerFields: HTTPFields
    /// The body.
    public var body: ResponseBody

    /// Creates a response.
    ///
    /// - Parameters:
    ///   - status: The status; 200 by default.
    ///   - headerFields: Fields to send.
    ///   - body: The body; none by default.
    public init(status: HTTPResponse.Status = .ok, headerFields: HTTPFields = [:], body: ResponseBody = .empty) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
    }

    /// Creates a response whose body is `bytes`.
    public init(status: HTTPResponse.Status = .ok, headerFields: HTTPFields = [:], bytes: [UInt8]) {
        self.init(status: status, headerFields: headerFields, body: ResponseBody(bytes: bytes))
    }

    init(status: HTTPResponse.Status, headerFields: HTTPFields, json: [UInt8]) {
        if headerFields.isEmpty {
            self.init(status: status, headerFields: Self.jsonFields, bytes: json)
        } else {
            self.init(status: status, headerFields: headerFields, bytes: json)
            self.headerFields[.contentType] = "application/json"
        }
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headerFields: textFields, bytes: Array(text.utf8))
    }

    // Built once and shared (fields are copy-on-write): building them costs allocations for the
    // field list and for a value too long to be stored inline, in every response.
    private static let jsonFields: HTTPFields = [.contentType: "application/json"]
    private static let textFields: HTTPFields = [.contentType: "text/plain; charset=utf-8"]

    /// An `application/json` response encoding `value`.
    ///
    /// - Throws: The encoder's error when `value` cannot be encoded.
    public static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headerFields: [:], json: try JSONCoding.encode(value))
    }

    /// The response as swift-http-types' head.
    public var head: HTTPResponse { HTTPResponse(status: status, headerFields: headerFields) }
}
