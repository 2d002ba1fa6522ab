public import HTTPTypes

/// A request the parser refuses: which rule it broke, the status to answer and a reason safe to show the client.
///
/// Match on ``code`` to tell failures apart; ``status`` and ``reason`` come from the code, so the answer a
/// server sends can never disagree with it. Only the codec creates codes: a new failure is a new
/// ``Code`` member, and there is no free-form initialiser whose status or text could drift from one.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule the request broke.
    public let code: Code

    /// Creates the error for `code`, e.g. `HTTPParseError(.invalidContentLength)`.
    public init(_ code: Code) {
        self.code = code
    }

    /// The status a server should answer with before closing the connection.
    public var status: HTTPResponse.Status { code.status }
    /// A short human explanation, free of request data.
    public var reason: String { code.reason }

    /// The status code and reason, e.g. `400 Bad Request: bare CR in field value`.
    public var description: String { "\(status.code) \(status.reasonPhrase): \(reason)" }

    /// One distinct failure of the parser, with the status and reason it is answered with.
    ///
    /// A struct rather than an enum so that later releases can add failures without breaking an exhaustive
    /// `switch`; compare with `==` or match in a `switch` with a `default` case.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The member's name; unique among codes, so it is what equality compares.
        let name: String
        /// The status a server answers with.
        public let status: HTTPResponse.Status
        /// A short human explanation, free of request data.
        public let reason: String

        // Every argument is a literal, so building a code never allocates; the members are built once, on
        // the first failure that uses them.
        init(_ name: String, _ status: HTTPResponse.Status, _ reason: String) {
            self.name = name
            self.status = status
            self.reason = reason
        }

        /// The member's name, e.g. `invalidContentLength`.
        public var description: String { name }

        public static func == (lhs: Code, rhs: Code) -> Bool { lhs.name == rhs.name }

        public func hash(into hasher: inout Hasher) { hasher.combine(name) }
    }
}
