public import HTTPTypes

/// An error that answers the request with a status and a client-safe detail.
///
/// Throw it from a handler, a middleware or a dependency; the client receives
/// `{"detail": "<detail>"}` with `status`, like FastAPI's `HTTPException`. Any other error thrown
/// by a handler becomes a 500 whose text is logged, never sent.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// The status to answer with.
    public var status: HTTPResponse.Status
    /// A short explanation that is safe to show the client.
    public var detail: String
    /// Extra header fields for the error response (for example `Allow` on a 405).
    public var headerFields: HTTPFields

    /// Creates an error response description.
    ///
    /// - Parameters:
    ///   - status: The response status.
    ///   - detail: Client-safe text; defaults to the status' reason phrase.
    ///   - headerFields: Fields added to the error response.
    public init(_ status: HTTPResponse.Status, detail: String? = nil, headerFields: HTTPFields = [:]) {
        self.status = status
        self.detail = detail ?? status.reasonPhrase
        self.headerFields = headerFields
    }

    public var description: String { "\(status.code) \(detail)" }

    /// The JSON response this error is sent as.
    public var response: Response {
        var response = Response(status: status, headerFields: headerFields, json: JSONText.object(["detail": detail]))
        response.headerFields[.contentType] = "application/json"
        return response
    }
}
