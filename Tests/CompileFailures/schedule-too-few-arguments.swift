// expect-error: missing argument for parameter #2 in call
import Loopwork

@Sendable func processData(_ data: String, _ key: String) async {}

func schedule(_ tasks: Tasks) {
    tasks.schedule(processData, "data")
}
