public import HTTPTypes

/// A value a handler can return: the framework turns it into a ``Response``.
///
/// `String`, ``Response``, `[UInt8]`, `[String: String]`, ``HTTPError`` and
/// `HTTPResponse.Status` conform; a type of your own is sent as JSON once it adopts
/// ``ResponseEncodable``, and ``StatusResponse`` sends any of these with another status.
public protocol ResponseConvertible: Sendable {
    /// The response for this value.
    func makeResponse() throws -> Response
}

/// An `Encodable` value a handler can return: it is sent as `application/json`, 200.
///
/// Adopting it is the one step that lets a route return your type:
///
/// ```swift
/// struct Order: Codable, ResponseEncodable {
///     let id: Int
/// }
/// app.get("/orders/{id}") { (path: PathParameters) in Order(id: try path.require("id", as: Int.self)) }
/// ```
///
/// Swift cannot make every `Encodable` type a ``ResponseConvertible``, so a type opts in; the
/// opt-in also keeps a value that is `Encodable` for another reason (a job's parameters, say)
/// from being sent to clients by accident.
/// A top-level JSON array or another standard value is answered with ``Response/json(_:status:)``.
public protocol ResponseEncodable: Encodable, ResponseConvertible {}

extension ResponseEncodable {
    /// The value encoded as JSON with status 200.
    ///
    /// - Throws: The encoder's error when the value cannot be encoded.
    public func makeResponse() throws -> Response { try .json(self) }
}

extension Response: ResponseConvertible {
    /// The response itself.
    public func makeResponse() throws -> Response { self }
}

extension String: ResponseConvertible {
    /// The string as `text/plain; charset=utf-8`.
    public func makeResponse() throws -> Response { .text(self) }
}

extension Substring: ResponseConvertible {
    /// The substring as `text/plain; charset=utf-8`.
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
    /// The error's problem response.
    public func makeResponse() throws -> Response { response }
}

extension HTTPResponse.Status: ResponseConvertible {
    /// A response with this status and no body.
    public func makeResponse() throws -> Response { Response(status: self) }
}

/// A body sent with a status other than its own, and optionally with more header fields: the
/// way a handler answers `201 Created` with the created value, or `202 Accepted` with a note.
///
/// ```swift
/// app.post("/orders") { (order: JSONBody<Order>) in
///     StatusResponse(.created, order.value, headerFields: [.location: "/orders/\(order.value.id)"])
/// }
/// ```
public struct StatusResponse<Body: ResponseConvertible>: ResponseConvertible {
    /// The status that replaces the body's own.
    public var status: HTTPResponse.Status
    /// Fields sent in place of the body's fields of the same names (its `Content-Type`, say);
    /// the body's other fields are kept.
    public var headerFields: HTTPFields
    /// The body value.
    public var body: Body

    /// Creates a response of `body` with `status`.
    ///
    /// - Parameters:
    ///   - status: The status to send.
    ///   - body: The value whose response is sent.
    ///   - headerFields: Fields to add, replacing the body's fields of the same names; none by default.
    public init(_ status: HTTPResponse.Status, _ body: Body, headerFields: HTTPFields = [:]) {
        self.status = status
        self.body = body
        self.headerFields = headerFields
    }

    /// The body's response with this status and these fields.
    ///
    /// - Throws: The body's error, such as an encoding failure.
    public func makeResponse() throws -> Response {
        var response = try body.makeResponse()
        response.status = status
        // Most answers add no fields: the body's own are then kept as they are, not copied.
        if !headerFields.isEmpty {
            var fields = headerFields
            for field in response.headerFields where !headerFields.contains(field.name) {
                fields.append(field)
            }
            response.headerFields = fields
        }
        return response
    }
}
