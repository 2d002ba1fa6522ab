// expect-success
// The harness's control: every form `schedule` accepts compiles, so a failure of the other
// snippets is theirs, not the harness's (wrong module path, missing import).
import Loopwork

struct Order: Sendable {
    let id: Int
    let email: String
}

@Sendable func reserveStock(_ id: Int) async {}
@Sendable func writeAudit(_ order: Order, _ note: String, _ attempt: Int) async throws -> Bool { true }
@Sendable func resizeImage(_ path: String) throws -> [UInt8] { [] }
@Sendable func tick() {}

func schedule(_ tasks: Tasks, _ order: Order) {
    let stock: ScheduledTask<Void> = tasks.schedule(reserveStock, order.id)
    let audit: ScheduledTask<Bool> = tasks.task(name: "audit", shield: true).schedule(writeAudit, order, "n", 1)
    let image: ScheduledTask<[UInt8]> = tasks.afterRoute.schedule(resizeImage, "/tmp/a.png")
    tasks.afterResponse.schedule(tick)
    tasks.afterResponse.task(always: true).schedule({ (email: String) async in _ = email }, order.email)
    _ = (stock, audit, image)
}
