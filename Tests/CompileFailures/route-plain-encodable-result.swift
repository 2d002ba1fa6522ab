// expect-error: conform to 'ResponseConvertible'
// An `Encodable` type is sent as JSON only once it adopts `ResponseEncodable`: returning one that
// did not is a compile error, not a silent choice of encoding.
import Loopwork

struct Order: Encodable, Sendable { let id: Int }

func install(on app: App) {
    app.get("/orders/7") { Order(id: 7) }
}
