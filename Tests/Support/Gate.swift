import LoopworkUV

/// A one-shot signal tests await instead of sleeping: `open()`, from any thread, releases every
/// waiter, once; a waiter that comes later passes at once.
public final class Gate: Sendable {
    private struct State {
        var isOpen = false
        var waiters = OneShotWaiters<Void>()
    }

    private let state = Locked(State())

    public init() {}

    public func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            return state.waiters.takeAll()
        }
        waiters.resume(returning: ())
    }

    public var isOpen: Bool { state.withLock { $0.isOpen } }

    public func wait() async {
        await state.wait(on: \.waiters) { $0.isOpen ? () : nil }
    }
}

/// Gates by name, created on first use by either side.
public final class Gates: Sendable {
    private let gates = Locked<[String: Gate]>([:])

    public init() {}

    public subscript(name: String) -> Gate {
        gates.withLock { gates in
            if let gate = gates[name] { return gate }
            let gate = Gate()
            gates[name] = gate
            return gate
        }
    }
}
