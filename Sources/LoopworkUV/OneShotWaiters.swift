/// Tasks waiting for one value that becomes known once: a start, a result, a stop.
///
/// Kept inside the state a ``Locked`` guards; ``Locked/wait(on:ifReady:)`` adds a waiter unless
/// the value is known, and whoever makes it known takes the waiters out under the lock and
/// resumes them after releasing it, so no continuation runs while the lock is held. Public and
/// inlinable, like ``Locked``, so that callers specialize it.
public struct OneShotWaiters<Value: Sendable>: Sendable {
    @usableFromInline var continuations: [CheckedContinuation<Value, Never>] = []

    @inlinable public init() {}

    @inlinable public mutating func append(_ continuation: CheckedContinuation<Value, Never>) {
        continuations.append(continuation)
    }

    /// Removes every waiter, to be resumed once the lock is released.
    @inlinable public mutating func takeAll() -> OneShotWaiters<Value> {
        defer { continuations = [] }
        return self
    }

    /// Resumes every waiter with `value`.
    @inlinable public consuming func resume(returning value: Value) {
        for continuation in continuations { continuation.resume(returning: value) }
    }
}

extension Locked {
    /// Returns what `ifReady` finds in the guarded value, waiting in `waiters` until someone who
    /// made it known resumes them (with ``OneShotWaiters/takeAll()`` under this lock).
    @inlinable public func wait<Result: Sendable>(
        on waiters: WritableKeyPath<Value, OneShotWaiters<Result>>,
        ifReady: (Value) -> Result?
    ) async -> Result {
        await withCheckedContinuation { continuation in
            let ready: Result? = withLock { value in
                if let ready = ifReady(value) { return ready }
                value[keyPath: waiters].append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
