import Logging
import LoopworkUV

/// Schedules one request's tasks: starts immediate tasks at once and hands the after-route and
/// after-response ones to the request's ``RequestTasks``, which its ``RequestContext`` releases
/// (or discards) at the milestones.
struct RequestTaskScope: Sendable {
    let context: RequestContext
    let supervisor: TaskSupervisor
    let environment: TaskEnvironment

    func schedule<Success: Sendable>(
        _ body: TaskBody, timing: TaskTiming, config: TaskConfig,
        origin: TaskOrigin
    ) -> ScheduledTask<Success> {
        let effective = config.merged(over: supervisor.defaults)
        let task = TaskRecord(origin: origin, config: effective, timing: timing, body: body, environment: environment)
        supervisor.track(task)
        switch context.withTasks({ $0.place(task) }) {
        case .start: supervisor.admit(task)
        case .hold: break
        case .discard: TaskList(task).discard(because: "its handler threw")
        }
        return ScheduledTask(task)
    }
}

/// The tasks of one request that wait for a milestone, and the milestones as the tasks see
/// them. Held in the ``RequestContext``'s state, so a milestone and the tasks it releases are
/// settled in one step under one lock.
struct RequestTasks {
    /// `nil` until the handler finished; then whether it succeeded. A response that finished
    /// first (a middleware answered instead) counts as a failed handler.
    private var handlerSucceeded: Bool?
    private var responseFinished = false
    private var afterRoute = TaskList()
    private var afterResponse = TaskList()

    enum Placement { case start, hold, discard }

    /// Holds `task` for its batch's moment, or says to start or discard it when the moment
    /// already passed.
    mutating func place(_ task: TaskRecord) -> Placement {
        switch task.timing {
        case .immediate:
            return .start
        case .afterRoute:
            switch handlerSucceeded {
            case nil:
                afterRoute.append(task)
                return .hold
            case true?:
                return .start
            case false?:
                return task.config.runsAlways ? .start : .discard
            }
        case .afterResponse:
            if handlerSucceeded == false && !task.config.runsAlways { return .discard }
            if handlerSucceeded != nil && responseFinished { return .start }
            afterResponse.append(task)
            return .hold
        }
    }

    /// The handler returned (`succeeded`) or threw; reported before the response is written.
    mutating func handlerFinished(succeeded: Bool) -> TaskRelease {
        guard handlerSucceeded == nil else { return .nothing }
        return settleHandler(succeeded: succeeded, reason: "its handler threw")
    }

    /// The response's last byte was handed to the kernel, or it never will be; with
    /// `bodyFailed`, because its body's producer threw mid-stream.
    mutating func responseFinished(bodyFailed: Bool) -> TaskRelease {
        guard !responseFinished else { return .nothing }
        responseFinished = true
        if handlerSucceeded == nil {
            return settleHandler(succeeded: false, reason: "the response finished before its handler")
        }
        defer { afterResponse = TaskList() }
        guard bodyFailed else { return TaskRelease(then: afterResponse, reason: "nothing is discarded") }
        // A producer that threw mid-stream fails the request as a throwing handler does.
        let (always, dropped) = afterResponse.partitioned { $0.config.runsAlways }
        return TaskRelease(dropped: dropped, then: always, reason: "its response body failed")
    }

    /// Records the handler's outcome; releases the after-route tasks, discards what a failed
    /// handler drops, and releases the after-response tasks when the response already finished.
    private mutating func settleHandler(succeeded: Bool, reason: String) -> TaskRelease {
        handlerSucceeded = succeeded
        var release = TaskRelease(start: afterRoute, reason: reason)
        afterRoute = TaskList()
        if !succeeded {
            let (always, dropped) = release.start.partitioned { $0.config.runsAlways }
            let (responseAlways, responseDropped) = afterResponse.partitioned { $0.config.runsAlways }
            release.start = always
            release.dropped = dropped
            release.dropped.append(contentsOf: responseDropped)
            afterResponse = responseAlways
        }
        if responseFinished {
            release.then = afterResponse
            afterResponse = TaskList()
        }
        return release
    }
}

/// What a milestone releases: tasks to start, tasks to discard (and why), then tasks to start
/// after them. Performed once the request's lock is released.
struct TaskRelease {
    var start = TaskList()
    var dropped = TaskList()
    var then = TaskList()
    let reason: String

    /// A milestone already passed: it releases nothing.
    static let nothing = TaskRelease(reason: "nothing is discarded")

    func perform() {
        start.forEach { $0.supervisor.admit($0) }
        dropped.discard(because: reason)
        then.forEach { $0.supervisor.admit($0) }
    }
}

/// Tasks of one batch in scheduling order. The first is kept inline: most requests schedule
/// one task per batch, and that costs no array.
struct TaskList: Sendable {
    private(set) var first: TaskRecord?
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

extension TaskList {
    /// Ends the tasks that are not finished yet as discarded, with one debug line for all.
    func discard(because reason: String) {
        let tasks = partitioned { !$0.state.isFinished }.matching
        guard let environment = tasks.first?.environment else { return }
        // One line for all of them: discarding is the documented default, not an error, but it
        // must never be silent.
        environment.logger.debug(
            "discarded background tasks because \(reason)",
            metadata: [
                "tasks": "\(tasks.map { "\($0.name) (\($0.timing))" }.joined(separator: ", "))",
                "route": "\(environment.route ?? "-")",
            ])
        tasks.forEach { $0.discard() }
    }
}
