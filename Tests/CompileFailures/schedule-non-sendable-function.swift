// expect-error: converting non-Sendable function value to '@Sendable
import Loopwork

func schedule(_ tasks: Tasks) {
    let notify: (Int) async -> Void = { _ in }
    tasks.schedule(notify, 1)
}
