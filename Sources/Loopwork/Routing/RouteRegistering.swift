public import HTTPTypes

/// Something routes can be registered on: the ``App`` and its ``RouteGroup``s.
///
/// Handlers declare what they need as parameters, each a ``RequestDependency``, and return a
/// ``ResponseConvertible``: text, a ``Response``, a ``ResponseEncodable`` value (sent as JSON),
/// or any of these with another status through ``StatusResponse``:
///
/// ```swift
/// app.post("/orders") { (order: JSONBody<Order>, tasks: Tasks) in
///     tasks.afterResponse.schedule(sendEmail, order.value.email)
///     return StatusResponse(.accepted, ["status": "ok"])
/// }
/// ```
///
/// A registration error (a malformed pattern, a route registered twice) does not trap: it is
/// kept, and the app refuses to start with it.
public protocol RouteRegistering: Sendable {
    /// Where this registrar's routes go, and the prefix they get.
    var registration: RouteRegistration { get }
}

/// The target of route registration: the app's route table and a path prefix.
public struct RouteRegistration: Sendable {
    let table: RouteTable
    let prefix: String
}

/// A set of routes under a common path prefix, such as `/api/v1`.
public struct RouteGroup: RouteRegistering {
    public let registration: RouteRegistration
}

extension RouteRegistering {
    /// A group whose routes are registered under `prefix` (joined with `/`).
    public func group(_ prefix: String) -> RouteGroup {
        RouteGroup(
            registration: RouteRegistration(table: registration.table, prefix: joinPaths(registration.prefix, prefix)))
    }

    /// Registers `handler` for `method` and `path`; its result is answered with its
    /// ``ResponseConvertible/makeResponse()``.
    public func on<each D: RequestDependency, Result: ResponseConvertible>(
        _ method: HTTPRequest.Method, _ path: String,
        use handler: @escaping @Sendable (repeat each D) async throws -> Result
    ) {
        let responder: RouteResponder = { request in
            // The route has succeeded only once its result is a response: a result that fails to
            // encode answers 500, so it must discard after-route work like a throwing handler.
            let response: Response
            do {
                let dependencies = (repeat try await (each D).resolve(from: request))
                response = try await handler(repeat each dependencies).makeResponse()
            } catch {
                request.context.handlerFinished(succeeded: false)
                throw error
            }
            request.context.handlerFinished(succeeded: true)
            return response
        }
        let check: @Sendable (DependencyEnvironment) throws -> Void = { environment in
            _ = (repeat try (each D).checkAvailability(in: environment))
        }
        registration.table.add(
            method: method, path: joinPaths(registration.prefix, path), responder: responder, check: check)
    }
}

func joinPaths(_ prefix: String, _ path: String) -> String {
    let left = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
    let right = path.hasPrefix("/") ? path : "/" + path
    return left + right
}
