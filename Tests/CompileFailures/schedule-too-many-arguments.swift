// expect-error: extra argument in call
import Loopwork

@Sendable func reserveStock(_ id: Int) async {}

func schedule(_ tasks: Tasks) {
    tasks.schedule(reserveStock, 1, 2)
}
