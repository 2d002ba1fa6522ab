import Logging
import LoopworkUV

/// One request's tasks: starts immediate tasks at once and holds the after-route and
/// after-response batches until the request's milestones release (or discard) them. Its
/// ``RequestContext`` reports the milestones.
final class RequestTaskScope: RequestLifecycleObserver {
    let supervisor: TaskSupervisor
    let environment: TaskEnvironment
    private let state = Locked(State())

    private struct State {
        /// `nil` until the handler finished; then whether it succeeded.
        var handlerSucceeded: Bool?
        var responseFinished = false
        var afterRoute = TaskList()
        var afterResponse = TaskList()
    }

    private enum Disposition { case start, hold, discard }

    init(supervisor: TaskSupervisor, environment: TaskEnvironment) {
        self.supervisor = supervisor
        self.environment = environment
    }

    func schedule<Success: Sendable>(_ body: TaskBody, timing: TaskTiming, config: TaskConfig,
                                     origin: TaskOrigin) -> ScheduledTask<Success> {
        let effective = config.merged(over: supervisor.defaults)
        let task = TaskRecord(origin: origin, config: effective, timing: timing, body: body, environment: environment)
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
        case .discard: discard(TaskList(task), reason: "its handler threw")
        }
        return ScheduledTask(task)
    }

    /// The handler returned (`succeeded`) or threw. Called once, before the response is written.
    func handlerFinished(succeeded: Bool) {
        let release = state.withLock { state in
            state.handlerSucceeded == nil ? Self.settleHandler(succeeded: succeeded, in: &state) : Release()
        }
        self.release(release, reason: "its handler threw")
    }

    /// The response's last byte was handed to the kernel (`delivered`), or the connection failed or
    /// closed before it could be, or (`bodyFailed`) the body's producer threw mid-stream.
    func responseFinished(delivered: Bool, bodyFailed: Bool) {
        let release = state.withLock { state in
            guard !state.responseFinished else { return Release() }
            state.responseFinished = true
            // The server reports the handler first; a response without a finished handler (a
            // middleware answered instead) is treated as a failed handler.
            if state.handlerSucceeded == nil {
                return Self.settleHandler(succeeded: false, in: &state)
            }
            defer { state.afterResponse = TaskList() }
            guard bodyFailed else { return Release(then: state.afterResponse) }
            // A producer that threw mid-stream fails the request as a throwing handler does.
            let (always, dropped) = state.afterResponse.partitioned { $0.config.runsAlways }
            return Release(dropped: dropped, then: always)
        }
        self.release(release, reason: bodyFailed ? "its response body failed" : "the response finished before its handler")
    }

    /// What a milestone releases: tasks to start, tasks to discard, then tasks to start after them.
    private struct Release {
        var start = TaskList()
        var dropped = TaskList()
        var then = TaskList()
    }

    /// Records the handler's outcome; releases the after-route tasks, discards what a failed
    /// handler drops, and releases the after-response tasks when the response already finished.
    private static func settleHandler(succeeded: Bool, in state: inout State) -> Release {
        state.handlerSucceeded = succeeded
        var release = Release(start: state.afterRoute)
        state.afterRoute = TaskList()
        if !succeeded {
            let (always, dropped) = release.start.partitioned { $0.config.runsAlways }
            let (responseAlways, responseDropped) = state.afterResponse.partitioned { $0.config.runsAlways }
            release.start = always
            release.dropped = dropped
            release.dropped.append(contentsOf: responseDropped)
            state.afterResponse = responseAlways
        }
        if state.responseFinished {
            release.then = state.afterResponse
            state.afterResponse = TaskList()
        }
        return release
    }

    private func release(_ release: Release, reason: String) {
        release.start.forEach { supervisor.admit($0) }
        discard(release.dropped, reason: reason)
        release.then.forEach { supervisor.admit($0) }
    }

    private func discard(_ tasks: TaskList, reason: String) {
        let tasks = tasks.partitioned { !$0.state.isFinished }.matching
        guard !tasks.isEmpty else { return }
        // One line for all of them: discarding is the documented default, not an error, but it
        // must never be silent.
        environment.logger.debug("discarded background tasks because \(reason)", metadata: [
            "tasks": "\(tasks.map { "\($0.name) (\($0.timing))" }.joined(separator: ", "))",
            "route": "\(environment.route ?? "-")",
        ])
        tasks.forEach { $0.discard() }
    }
}

/// Tasks of one batch in scheduling order. The first is kept inline: most requests schedule
/// one task per batch, and that costs no array.
struct TaskList: Sendable {
    private var first: TaskRecord?
    private var rest: [TaskRecord] = []

    init() {}

    init(_ task: TaskRecord) {
        first = task
    }

    var isEmpty: Bool { first == nil }

    mutating func append(_ task: TaskRecord) {
        if first == nil { first = task } else { rest.append(task) }
    }

    mutating func append(contentsOf other: TaskList) {
        other.forEach { append($0) }
    }

    func forEach(_ body: (TaskRecord) throws -> Void) rethrows {
        guard let first else { return }
        try body(first)
        for task in rest { try body(task) }
    }

    func map<T>(_ transform: (TaskRecord) throws -> T) rethrows -> [T] {
        var mapped: [T] = []
        try forEach { mapped.append(try transform($0)) }
        return mapped
    }

    /// The tasks for which `predicate` holds, and the others, each in order.
    func partitioned(by predicate: (TaskRecord) -> Bool) -> (matching: TaskList, others: TaskList) {
        var matching = TaskList()
        var others = TaskList()
        forEach { task in
            if predicate(task) { matching.append(task) } else { others.append(task) }
        }
        return (matching, others)
    }
}
