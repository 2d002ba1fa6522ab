import HTTPTypes

/// Finds the route for a method and path: a tree of path segments, literal children tried before a
/// parameter child. Built while the app is configured, read-only once it serves.
struct Router: Sendable {
    // @unchecked: nodes are mutated only while routes are registered, under the app's
    // registration lock; once the app starts serving, the tree is never mutated again and
    // is only read.
    private final class Node: @unchecked Sendable {
        var literals: [String: Node] = [:]
        var parameter: (name: String, node: Node)?
        var routes: [HTTPRequest.Method: Route] = [:]
    }

    enum Match {
        case found(Route, PathParameters)
        /// The path exists but not for this method; carries the methods it has.
        case methodNotAllowed(allowed: [HTTPRequest.Method])
        case notFound
    }

    private let root = Node()
    private(set) var routes: [Route] = []
    /// The methods the server answers with 404 or 405 rather than 501: the standard ones and
    /// any a route uses.
    private var recognizedMethods: Set<HTTPRequest.Method> = Self.standardMethods

    /// RFC 9110 §9's methods, and PATCH (RFC 5789), which general-purpose clients send.
    private static let standardMethods: Set<HTTPRequest.Method> = [
        .get, .head, .post, .put, .delete, .connect, .options, .trace, .patch,
    ]

    mutating func add(_ route: Route) throws(AppConfigurationError) {
        var node = root
        for segment in route.pattern.segments {
            switch segment {
            case .literal(let text):
                if let next = node.literals[text] {
                    node = next
                } else {
                    let next = Node()
                    node.literals[text] = next
                    node = next
                }
            case .parameter(let name):
                if let existing = node.parameter {
                    guard existing.name == name else {
                        throw AppConfigurationError(
                            "route '\(route.pattern.text)': parameter '{\(name)}' conflicts with '{\(existing.name)}' registered at the same position"
                        )
                    }
                    node = existing.node
                } else {
                    let next = Node()
                    node.parameter = (name, next)
                    node = next
                }
            }
        }
        guard node.routes[route.method] == nil else {
            throw AppConfigurationError("route \(route.description) is registered twice")
        }
        node.routes[route.method] = route
        routes.append(route)
        recognizedMethods.insert(route.method)
    }

    /// Whether `method` is one this server knows; RFC 9110 §9.1: an unrecognized method
    /// should be answered with 501 (Not Implemented), whatever the path.
    func recognizes(_ method: HTTPRequest.Method) -> Bool {
        recognizedMethods.contains(method)
    }

    func match(method: HTTPRequest.Method, path: String) -> Match {
        var parameters = PathParameters()
        guard let node = find(path[...], from: root, parameters: &parameters),
            !node.routes.isEmpty
        else {
            return .notFound
        }
        if let route = node.routes[method] {
            return .found(route, parameters)
        }
        // HEAD is answered by GET when no HEAD route exists; the serializer drops the body.
        if method == .head, let route = node.routes[.get] {
            return .found(route, parameters)
        }
        var allowed = Array(node.routes.keys)
        if node.routes[.get] != nil, node.routes[.head] == nil { allowed.append(.head) }
        return .methodNotAllowed(allowed: allowed.sorted { $0.rawValue < $1.rawValue })
    }

    /// Walks the segments of `path` (empty segments skipped, as in `//a/`) without splitting it
    /// into an array: this runs for every request.
    private func find(_ path: Substring, from node: Node, parameters: inout PathParameters) -> Node? {
        let utf8 = path.utf8
        guard let start = utf8.firstIndex(where: { $0 != UInt8(ascii: "/") }) else { return node }
        let end = utf8[start...].firstIndex(of: UInt8(ascii: "/")) ?? utf8.endIndex
        let segment = path[start..<end]
        let rest = path[end...]
        if let literal = node.literals[String(segment)], let found = find(rest, from: literal, parameters: &parameters),
            !found.routes.isEmpty
        {
            return found
        }
        if let (name, child) = node.parameter {
            var captured = parameters
            captured.append(name: name, value: PercentDecoding.decode(segment, plusIsSpace: false))
            if let found = find(rest, from: child, parameters: &captured), !found.routes.isEmpty {
                parameters = captured
                return found
            }
        }
        return nil
    }
}
