import LoopworkUV

/// The awaitable "started" signal of a scheduled task, like the original's `started` event.
///
/// It is set when the task's function begins, also when it then fails. A task that ends without
/// starting (discarded, cancelled before it ran) never sets it, but releases every waiter then,
/// so `wait()` never hangs on a task that will not run.
public final class TaskStartSignal: Sendable {
    private let state = Locked(State())

    private struct State {
        var isSet = false
        var isResolved = false
        var waiters: [CheckedContinuation<Bool, Never>] = []
    }

    init() {}

    /// Whether the task has started.
    public var isSet: Bool { state.withLock { $0.isSet } }

    /// Waits until the task starts or ends without starting.
    ///
    /// - Returns: `true` when the task started, `false` when it ended without starting.
    @discardableResult
    public func wait() async -> Bool {
        await withCheckedContinuation { continuation in
            let resolved: Bool? = state.withLock { state in
                if state.isResolved { return state.isSet }
                state.waiters.append(continuation)
                return nil
            }
            if let resolved { continuation.resume(returning: resolved) }
        }
    }

    /// Marks the task started and releases waiters with `true`.
    func set() { resolve(started: true) }

    /// Releases waiters with `false` when the task ended without starting; no effect once set.
    func endWithoutStart() { resolve(started: false) }

    private func resolve(started: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard !state.isResolved else { return [] }
            state.isResolved = true
            state.isSet = started
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: started) }
    }
}
