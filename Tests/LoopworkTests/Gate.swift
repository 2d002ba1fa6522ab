import LoopworkUV
import Loopwork

/// A one-shot signal tests await instead of sleeping: `open()` releases every waiter, once.
final class Gate: Sendable {
    private let state = Locked<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    var isOpen: Bool { state.withLock { $0.open } }

    func wait() async {
        await withCheckedContinuation { continuation in
            let alreadyOpen = state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if alreadyOpen { continuation.resume() }
        }
    }
}

/// Gates by name, created on first use by either side.
final class Gates: Sendable {
    private let gates = Locked<[String: Gate]>([:])

    subscript(name: String) -> Gate {
        gates.withLock { gates in
            if let gate = gates[name] { return gate }
            let gate = Gate()
            gates[name] = gate
            return gate
        }
    }
}
