public import HTTPTypes

/// A value a handler can return: the framework turns it into a ``Response``.
///
/// `String`, ``Response``, `[UInt8]` and ``HTTPError`` conform; handlers may also return any
/// `Encodable` value (sent as JSON) or a `(HTTPResponse.Status, body)` pair.
public protocol ResponseConvertible: Sendable {
    /// The response for this value.
    func makeResponse() throws -> Response
}

extension Response: ResponseConvertible {
    public func makeResponse() throws -> Response { self }
}

extension String: ResponseConvertible {
    public func makeResponse() throws -> Response { .text(self) }
}

extension Substring: ResponseConvertible {
    public func makeResponse() throws -> Response { .text(String(self)) }
}

extension Array: ResponseConvertible where Element == UInt8 {
    /// Raw bytes as `application/octet-stream`.
    public func makeResponse() throws -> Response {
        Response(status: .ok, headerFields: [.contentType: "application/octet-stream"], bytes: self)
    }
}

extension Dictionary: ResponseConvertible where Key == String, Value == String {
    /// A JSON object, such as `["status": "ok"]`: the most common small answer, encoded directly.
    public func makeResponse() throws -> Response {
        Response(status: .ok, headerFields: [:], json: JSONText.object(self))
    }
}

extension HTTPError: ResponseConvertible {
    public func makeResponse() throws -> Response { response }
}

extension HTTPResponse.Status: ResponseConvertible {
    /// A response with this status and no body.
    public func makeResponse() throws -> Response { Response(status: self) }
}

/// Wraps an `Encodable` value so it is sent as JSON; handlers returning an `Encodable` type
/// are adapted with it automatically.
public struct JSONResponse<Value: Encodable & Sendable>: ResponseConvertible {
    /// The value to encode.
    public var value: Value
    /// The status to send.
    public var status: HTTPResponse.Status

    /// Creates a JSON response.
    public init(_ value: Value, status: HTTPResponse.Status = .ok) {
        self.value = value
        self.status = status
    }

    public func makeResponse() throws -> Response { try .json(value, status: status) }
}

/// A status paired with a body, the form of a handler returning `(status, body)`.
public struct StatusResponse<Body: ResponseConvertible>: ResponseConvertible {
    /// The status that replaces the body's own.
    public var status: HTTPResponse.Status
    /// The body value.
    public var body: Body

    /// Creates the pair.
    public init(_ status: HTTPResponse.Status, _ body: Body) {
        self.status = status
        self.body = body
    }

    public func makeResponse() throws -> Response {
        var response = try body.makeResponse()
        response.status = status
        return response
    }
}
