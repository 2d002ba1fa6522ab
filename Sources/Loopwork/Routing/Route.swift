import HTTPTypes

/// The function a matched route runs: resolves the handler's dependencies, calls it, converts
/// its result. Returns the response; the handler-finished milestone is signalled inside.
typealias RouteResponder = @Sendable (Request) async throws -> Response

/// One registered route: method, pattern and what answers it.
struct Route: Sendable {
    let method: HTTPRequest.Method
    let pattern: RoutePattern
    let responder: RouteResponder
    /// Checks every dependency the handler declares against the app, at start.
    let checkDependencies: @Sendable (DependencyEnvironment) throws -> Void

    var description: String { "\(method.rawValue) \(pattern.text)" }
}

/// A parsed route pattern such as `/users/{id}/posts`.
struct RoutePattern: Sendable, Equatable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    let text: String
    let segments: [Segment]

    /// Parses a pattern; a malformed one is a programming error reported at registration.
    init(_ text: String) throws(AppConfigurationError) {
        var segments: [Segment] = []
        var names = Set<String>()
        for piece in text.split(separator: "/", omittingEmptySubsequences: true) {
            if piece.hasPrefix("{") {
                guard piece.hasSuffix("}"), piece.count > 2 else {
                    throw AppConfigurationError(
                        "route '\(text)': malformed parameter segment '\(piece)'; write '{name}'")
                }
                let name = String(piece.dropFirst().dropLast())
                guard names.insert(name).inserted else {
                    throw AppConfigurationError("route '\(text)': parameter '{\(name)}' appears twice")
                }
                segments.append(.parameter(name))
            } else {
                guard !piece.contains("{"), !piece.contains("}") else {
                    throw AppConfigurationError(
                        "route '\(text)': braces must enclose a whole segment, as in '/users/{id}'")
                }
                segments.append(.literal(String(piece)))
            }
        }
        self.text =
            "/"
            + segments.map { segment in
                switch segment {
                case .literal(let value): value
                case .parameter(let name): "{\(name)}"
                }
            }.joined(separator: "/")
        self.segments = segments
    }
}
