// expect-error: cannot convert value of type 'String' to expected argument type 'Int'
import Loopwork

@Sendable func reserveStock(_ id: Int) async {}

func schedule(_ tasks: Tasks) {
    tasks.schedule(reserveStock, "42")
}
