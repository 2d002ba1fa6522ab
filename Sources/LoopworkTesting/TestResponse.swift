public import HTTPTypes

extension HTTPField.Name {
    /// `Host`: swift-http-types keeps it out of its named fields (it maps to the authority), but
    /// HTTP/1.1 requests carry it as a field.
    static let hostField = HTTPField.Name("Host")!
}

/// A response as a test sees it.
public struct TestResponse: Sendable {
    /// The status.
    public var status: HTTPResponse.Status
    /// The header fields as received.
    public var headerFields: HTTPFields
    /// The body bytes.
    public var body: [UInt8]

    /// Creates a response value.
    public init(status: HTTPResponse.Status, headerFields: HTTPFields, body: [UInt8]) {
        self.status = status
        self.headerFields = headerFields
        self.body = body
    }

    /// The body decoded as UTF-8.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Sends requests to an app under test, in-process or over a socket.
public protocol TestClient: Sendable {
    /// Sends one request and returns its complete response.
    ///
    /// - Parameters:
    ///   - method: The request method.
    ///   - path: The request target, query included.
    ///   - headerFields: Extra fields; `Host` and `Content-Length` are added when missing.
    ///   - body: The body bytes.
    func execute(_ method: HTTPRequest.Method, _ path: String, headerFields: HTTPFields, body: [UInt8]) async throws
        -> TestResponse
}

extension TestClient {
    /// Sends a request without extra fields.
    public func execute(_ method: HTTPRequest.Method, _ path: String, body: [UInt8] = []) async throws -> TestResponse {
        try await execute(method, path, headerFields: [:], body: body)
    }

    /// Sends a request with extra fields and no body.
    public func execute(_ method: HTTPRequest.Method, _ path: String, headerFields: HTTPFields) async throws
        -> TestResponse
    {
        try await execute(method, path, headerFields: headerFields, body: [UInt8]())
    }

    /// Sends a request with a UTF-8 body, such as JSON text.
    public func execute(_ method: HTTPRequest.Method, _ path: String, headerFields: HTTPFields = [:], body: String)
        async throws -> TestResponse
    {
        try await execute(method, path, headerFields: headerFields, body: Array(body.utf8))
    }
}

/// How ``App/test(_:_:)`` reaches the app: `.router` or `.live`.
///
/// A struct with static members rather than an enum, as Hummingbird's is, so that a mode can be
/// added without breaking a `switch` in user code.
public struct TestingMode: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Hashable {
        case router
        case live
    }

    let kind: Kind

    /// Straight into the request pipeline, no socket: fast, for handler logic.
    public static let router = TestingMode(kind: .router)
    /// A real server on an ephemeral port on 127.0.0.1, reached over TCP.
    public static let live = TestingMode(kind: .live)

    public var description: String {
        switch kind {
        case .router: "router"
        case .live: "live"
        }
    }
}
