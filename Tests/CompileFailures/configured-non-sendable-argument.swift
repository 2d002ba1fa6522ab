// expect-error: does not conform to the 'Sendable' protocol
import Loopwork

final class Session {
    var token = ""
}

@Sendable func audit(_ session: Session) throws {}

func schedule(_ tasks: Tasks) {
    tasks.task(name: "audit", shield: true).schedule(audit, Session())
}
