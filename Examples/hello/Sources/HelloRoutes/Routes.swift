import Loopwork

/// An order as a client posts it to `POST /orders`.
public struct Order: Codable, Sendable {
    public let id: Int
    public let email: String
}

/// What `GET /hello/{name}` answers, as JSON.
public struct Greeting: ResponseEncodable {
    public let message: String
}

/// Stand-ins for real work: reserving stock, warming a cache, sending a confirmation.
@Sendable func reserveStock(_ id: Int) async throws {}
@Sendable func warmCache(_ id: Int) {}
@Sendable func sendConfirmation(_ email: String) async throws {}

/// The example's routes; the README's first example is this function.
public func installRoutes(on app: App) {
    app.addTasks()

    app.get("/hello/{name}") { (path: PathParameters, query: QueryParameters) in
        let greeting = query["greeting"] ?? "Hello"
        return Greeting(message: "\(greeting), \(path["name"] ?? "world")!")
    }

    app.post("/orders") { (order: JSONBody<Order>, tasks: Tasks) in
        tasks.schedule(reserveStock, order.value.id)  // now, beside the handler
        tasks.afterRoute.schedule(warmCache, order.value.id)  // once the handler returned
        tasks.afterResponse.schedule(sendConfirmation, order.value.email)  // once the answer is sent
        return StatusResponse(.accepted, ["status": "ok"])
    }
}
