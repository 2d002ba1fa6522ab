import Logging
import LoopworkUV

/// What the scope and the supervisor need from a task, whatever its result type.
protocol SupervisedTask: ScheduledTaskProtocol {
    /// Whether the task's moment has come (it was handed to the supervisor to run).
    var isDue: Bool { get }
    /// Records that the task's moment came; `false` when it already ended (cancelled).
    func markDue() -> Bool
    /// Hands the task to the executor or the pool; `false` when it already ended.
    func launch() -> Bool
    /// Ends a task that will never run because its handler threw.
    func discard()
    /// Cancels the task at shutdown unless it is shielded and due.
    func cancelForShutdown()
}

/// One request's tasks: starts immediate tasks at once and holds the after-route and
/// after-response batches until the request's milestones release (or discard) them.
final class RequestTaskScope: RequestLifecycleObserver {
    let supervisor: TaskSupervisor
    let environment: TaskEnvironment
    private let state = Locked(State())

    private struct State {
        /// `nil` until the handler finished; then whether it succeeded.
        var handlerSucceeded: Bool?
        var responseFinished = false
        var observing = false
        var afterRoute: [any SupervisedTask] = []
        var afterResponse: [any SupervisedTask] = []
    }

    private enum Disposition { case start, hold, discard }

    init(supervisor: TaskSupervisor, environment: TaskEnvironment) {
        self.supervisor = supervisor
        self.environment = environment
    }

    /// Returns `true` exactly once, for the caller that registers the scope as an observer.
    func claimObservation() -> Bool {
        state.withLock { state in
            defer { state.observing = true }
            return !state.observing
        }
    }

    func schedule<Success: Sendable>(_ body: TaskBody<Success>, timing: TaskTiming, config: TaskConfig,
                                     origin: TaskOrigin) -> ScheduledTask<Success> {
        let effective = config.merged(over: supervisor.defaults)
        let task = ScheduledTask(origin: origin, config: effective, timing: timing,
                                 body: body, environment: environment)
        supervisor.track(task)
        let disposition: Disposition = state.withLock { state in
            switch timing {
            case .immediate:
                return .start
            case .afterRoute:
                switch state.handlerSucceeded {
                case nil:
                    state.afterRoute.append(task)
                    return .hold
                case true?:
                    return .start
                case false?:
                    return effective.runsAlways ? .start : .discard
                }
            case .afterResponse:
                if state.handlerSucceeded == false && !effective.runsAlways { return .discard }
                if state.handlerSucceeded != nil && state.responseFinished { return .start }
                state.afterResponse.append(task)
                return .hold
            }
        }
        switch disposition {
        case .start: supervisor.admit(task)
        case .hold: break
        case .discard: discard([task], reason: "its handler threw")
        }
        return task
    }

    func handlerFinished(succeeded: Bool) {
        let (start, dropped, responseTasks) = state.withLock { state in
            guard state.handlerSucceeded == nil else { return ([any SupervisedTask](), [any SupervisedTask](), [any SupervisedTask]()) }
            return Self.settleHandler(succeeded: succeeded, in: &state)
        }
        release(start: start, dropped: dropped, then: responseTasks, reason: "its handler threw")
    }

    func responseFinished(delivered: Bool, bodyFailed: Bool) {
        let (start, dropped, responseTasks) = state.withLock { state in
            guard !state.responseFinished else { return ([any SupervisedTask](), [any SupervisedTask](), [any SupervisedTask]()) }
            state.responseFinished = true
            // The server reports the handler first; a response without a finished handler (a
            // middleware answered instead) is treated as a failed handler.
            if state.handlerSucceeded == nil {
                return Self.settleHandler(succeeded: false, in: &state)
            }
            defer { state.afterResponse = [] }
            if bodyFailed {
                // A producer that threw mid-stream fails the request as a throwing handler does.
                return ([], state.afterResponse.filter { !$0.config.runsAlways },
                        state.afterResponse.filter { $0.config.runsAlways })
            }
            return ([], [], state.afterResponse)
        }
        release(start: start, dropped: dropped, then: responseTasks,
                reason: bodyFailed ? "its response body failed" : "the response finished before its handler")
    }

    /// Records the handler's outcome; returns the after-route tasks to start, the tasks to
    /// discard, and the after-response tasks to start when the response already finished.
    private static func settleHandler(succeeded: Bool, in state: inout State)
        -> ([any SupervisedTask], [any SupervisedTask], [any SupervisedTask]) {
        state.handlerSucceeded = succeeded
        var start = state.afterRoute
        var dropped: [any SupervisedTask] = []
        state.afterRoute = []
        if !succeeded {
            dropped = start.filter { !$0.config.runsAlways }
            start = start.filter { $0.config.runsAlways }
            dropped += state.afterResponse.filter { !$0.config.runsAlways }
            state.afterResponse = state.afterResponse.filter { $0.config.runsAlways }
        }
        var responseTasks: [any SupervisedTask] = []
        if state.responseFinished {
            responseTasks = state.afterResponse
            state.afterResponse = []
        }
        return (start, dropped, responseTasks)
    }

    private func release(start: [any SupervisedTask], dropped: [any SupervisedTask],
                         then responseTasks: [any SupervisedTask], reason: String) {
        for task in start { supervisor.admit(task) }
        discard(dropped, reason: reason)
        for task in responseTasks { supervisor.admit(task) }
    }

    private func discard(_ tasks: [any SupervisedTask], reason: String) {
        let tasks = tasks.filter { !$0.state.isFinished }
        guard !tasks.isEmpty else { return }
        // One line for all of them: discarding is the documented default, not an error, but it
        // must never be silent.
        environment.logger.debug("discarded background tasks because \(reason)", metadata: [
            "tasks": "\(tasks.map { "\($0.name) (\($0.timing))" }.joined(separator: ", "))",
            "route": "\(environment.route ?? "-")",
        ])
        for task in tasks { task.discard() }
    }
}
