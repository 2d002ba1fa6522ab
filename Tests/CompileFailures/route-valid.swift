// expect-success
// The control for the route snippets: every result form a route accepts compiles.
import HTTPTypes
import Loopwork

struct Order: Decodable, ResponseEncodable { let id: Int }

func install(on app: App) {
    app.get("/text") { "Hello" }
    app.get("/object") { ["status": "ok"] }
    app.get("/orders/7") { Order(id: 7) }
    app.post("/orders") { (order: JSONBody<Order>) in
        StatusResponse(.created, order.value, headerFields: [.location: "/orders/\(order.value.id)"])
    }
    app.delete("/orders/7") { HTTPResponse.Status.noContent }
    app.on(.put, "/orders/7") { () -> Response in Response(status: .noContent) }
}
