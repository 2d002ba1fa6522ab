public import Logging
package import LoopworkUV

/// Per-request state shared by the handler, its middleware and every dependency it declares.
///
/// ``Tasks`` asked for twice in one request (by the handler and by a user dependency, say)
/// schedules into the same tasks: the ones waiting for a milestone are kept here.
public final class RequestContext: Sendable {
    /// A short identifier for log correlation; taken from `X-Request-ID` when the client sent one.
    public let requestID: String
    /// The logger for this request, with `request-id` in its metadata.
    ///
    /// Built on access: most requests never log, and adding metadata allocates.
    public var logger: Logger { baseLogger.withRequestID(requestID) }
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
        var route: String?
        /// The request's tasks waiting for a milestone; released first when it passes. Kept
        /// here rather than as an observer, so it costs no object, no lock and no array.
        var tasks = RequestTasks()
        var observers: [any RequestLifecycleObserver] = []
        /// The milestones passed so far, replayed to an observer that registers late.
        var handlerSucceeded: Bool?
        var response: (delivered: Bool, bodyFailed: Bool)?
    }

    package init(
        requestID: String, logger: Logger, services: AppServices, host: any TaskExecutionHost, loop: EventLoop? = nil
    ) {
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

    /// Runs `body` on the request's waiting tasks, under the lock the milestones take.
    func withTasks<Result>(_ body: (inout RequestTasks) -> Result) -> Result {
        state.withLock { body(&$0.tasks) }
    }

    /// Registers an observer of the request's milestones (handler returned, response sent). A
    /// milestone already passed is reported to it at once, so no observer waits for one that
    /// will never come.
    package func addObserver(_ observer: any RequestLifecycleObserver) {
        let (handler, response) = state.withLock { state in
            if state.response == nil { state.observers.append(observer) }
            return (state.handlerSucceeded, state.response)
        }
        if let handler { observer.handlerFinished(succeeded: handler) }
        if let response { observer.responseFinished(delivered: response.delivered, bodyFailed: response.bodyFailed) }
    }

    /// The handler returned (`succeeded`) or threw. Only the first report counts: a handler that
    /// returns after its request was answered without it (a timeout) stays failed, as its tasks
    /// were treated.
    package func handlerFinished(succeeded: Bool) {
        let first = state.withLock { state -> (TaskRelease, [any RequestLifecycleObserver])? in
            guard state.handlerSucceeded == nil else { return nil }
            state.handlerSucceeded = succeeded
            return (state.tasks.handlerFinished(succeeded: succeeded), state.observers)
        }
        guard let (release, observers) = first else { return }
        release.perform()
        for observer in observers {
            observer.handlerFinished(succeeded: succeeded)
        }
    }

    /// The response's last byte was handed to the kernel (`delivered`), or it never will be; with
    /// `bodyFailed`, because its body's producer threw. Reported once per request.
    package func responseFinished(delivered: Bool, bodyFailed: Bool = false) {
        let (release, observers) = state.withLock { state in
            state.response = (delivered, bodyFailed)
            // Answered before its handler returned: the handler has failed, for the tasks too.
            if state.handlerSucceeded == nil { state.handlerSucceeded = false }
            defer { state.observers.removeAll() }
            return (state.tasks.responseFinished(bodyFailed: bodyFailed), state.observers)
        }
        release.perform()
        for observer in observers {
            observer.responseFinished(delivered: delivered, bodyFailed: bodyFailed)
        }
    }
}

/// Something that acts at a request's milestones, such as a held durable job.
package protocol RequestLifecycleObserver: Sendable {
    /// The handler returned (`succeeded`) or threw. Called once, before the response is written.
    func handlerFinished(succeeded: Bool)
    /// The response's last byte was handed to the kernel (`delivered`), or the connection failed or
    /// closed before it could be, or (`bodyFailed`) the body's producer threw mid-stream. Called
    /// once per request, from the write-completion path.
    func responseFinished(delivered: Bool, bodyFailed: Bool)
}
