package import LoopworkUV
public import Logging

/// Per-request state shared by the handler, its middleware and every dependency it declares.
///
/// A dependency resolved twice in one request (for example ``Tasks`` asked for by the handler and
/// by a user dependency) is created once and cached here, so both see the same value.
public final class RequestContext: Sendable {
    /// A short identifier for log correlation; taken from `X-Request-ID` when the client sent one.
    public let requestID: String
    /// The logger for this request, with `request-id` in its metadata.
    ///
    /// Built on access: most requests never log, and adding metadata allocates.
    public var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "request-id"] = "\(requestID)"
        return logger
    }
    /// The app's logger without the request's metadata; its level decides what is logged.
    let baseLogger: Logger
    /// The app-wide services this request may use (the task supervisor, user services).
    package let services: AppServices
    /// Where background work of this request runs.
    package let host: any TaskExecutionHost
    /// The worker loop serving the request, whose thread pool file responses read on; `nil` for
    /// a context made outside a server.
    package let loop: EventLoop?
    private let state = Locked(State())

    private struct State {
        var cache: [ObjectIdentifier: any Sendable] = [:]
        var observers: [any RequestLifecycleObserver] = []
        var route: String?
    }

    package init(requestID: String, logger: Logger, services: AppServices, host: any TaskExecutionHost, loop: EventLoop? = nil) {
        self.requestID = requestID
        self.baseLogger = logger
        self.services = services
        self.host = host
        self.loop = loop
    }

    /// The pattern of the route that matched (`/users/{id}`), once routing has happened.
    public var route: String? { state.withLock { $0.route } }

    package func setRoute(_ pattern: String) {
        state.withLock { $0.route = pattern }
    }

    /// Returns the value cached under `key`, creating it with `make` on first use.
    package func cached<Value: Sendable>(_ key: ObjectIdentifier, make: () throws -> Value) rethrows -> Value {
        try state.withLock { state in
            if let existing = state.cache[key] as? Value { return existing }
            let value = try make()
            state.cache[key] = value
            return value
        }
    }

    /// Registers an observer of the request's milestones (handler returned, response sent).
    package func addObserver(_ observer: any RequestLifecycleObserver) {
        state.withLock { $0.observers.append(observer) }
    }

    package func handlerFinished(succeeded: Bool) {
        for observer in state.withLock({ $0.observers }) {
            observer.handlerFinished(succeeded: succeeded)
        }
    }

    /// The response's last byte was handed to the kernel (`delivered`), or it never will be; with
    /// `bodyFailed`, because its body's producer threw.
    package func responseFinished(delivered: Bool, bodyFailed: Bool = false) {
        let observers = state.withLock { state in
            defer { state.observers.removeAll() }
            return state.observers
        }
        for observer in observers {
            observer.responseFinished(delivered: delivered, bodyFailed: bodyFailed)
        }
    }
}

/// Something that acts at a request's milestones; the task scheduler is one.
package protocol RequestLifecycleObserver: Sendable {
    /// The handler returned (`succeeded`) or threw. Called once, before the response is written.
    func handlerFinished(succeeded: Bool)
    /// The response's last byte was handed to the kernel (`delivered`), or the connection failed or
    /// closed before it could be, or (`bodyFailed`) the body's producer threw mid-stream. Called
    /// once per request, from the write-completion path.
    func responseFinished(delivered: Bool, bodyFailed: Bool)
}
