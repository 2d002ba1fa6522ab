import HTTPTypes
import LoopworkUV

/// The app's routes while it is configured: registration may come from any thread, and errors
/// are kept until the app starts, which then refuses to run with the first of them.
final class RouteTable: Sendable {
    private struct State {
        var router = Router()
        var errors: [AppConfigurationError] = []
        var frozen = false
    }

    private let state = Locked(State())

    func add(
        method: HTTPRequest.Method, path: String,
        responder: @escaping RouteResponder,
        check: @escaping @Sendable (DependencyEnvironment) throws -> Void
    ) {
        state.withLock { state in
            guard !state.frozen else {
                state.errors.append(
                    AppConfigurationError(
                        "route \(method.rawValue) \(path) was registered after the app started; register routes before run()"
                    ))
                return
            }
            do {
                let route = Route(
                    method: method, pattern: try RoutePattern(path), responder: responder, checkDependencies: check)
                try state.router.add(route)
            } catch let error as AppConfigurationError {
                state.errors.append(error)
            } catch {
                state.errors.append(AppConfigurationError("route \(method.rawValue) \(path): \(error)"))
            }
        }
    }

    /// Stops registration and returns the router, or the first registration error.
    func freeze() throws(AppConfigurationError) -> Router {
        try state.withLock { (state) throws(AppConfigurationError) -> Router in
            state.frozen = true
            if let error = state.errors.first { throw error }
            return state.router
        }
    }
}
