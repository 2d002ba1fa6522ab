// expect-error: missing argument for parameter #2 in call
import Loopwork

@Sendable func resize(_ path: String, _ width: Int) throws -> [UInt8] { [] }

func schedule(_ tasks: Tasks) {
    tasks.afterRoute.task(name: "resize").schedule(resize, "/tmp/a.png")
}
