import HelloRoutes
import Loopwork
import LoopworkTesting
import Testing

@Test func greetsByName() async throws {
    let app = App(configuration: AppConfiguration(workers: 1))
    installRoutes(on: app)
    try await app.test(.live) { client in
        let response = try await client.execute(.get, "/hello/Ada?greeting=Hi")
        #expect(response.status == .ok)
        #expect(response.text == #"{"message":"Hi, Ada!"}"#)
    }
}

@Test func answersTheRootOverTheRouter() async throws {
    let app = App(configuration: AppConfiguration(workers: 1))
    installRoutes(on: app)
    // `throws` because the body's only `try` is inside #expect, which Swift does not see when it
    // infers the closure's type (swiftlang/swift#75256).
    try await app.test(.router) { client throws in #expect(try await client.execute(.get, "/hello/Ada").status == .ok) }
}

@Test func acceptsAnOrderAndSchedulesItsTasks() async throws {
    let app = App(configuration: AppConfiguration(workers: 1))
    installRoutes(on: app)
    try await app.test(.live) { client in
        let response = try await client.execute(
            .post, "/orders", headerFields: [.contentType: "application/json"],
            body: #"{"id": 7, "email": "ada@example.com"}"#)
        #expect(response.status == .accepted)
        #expect(response.text == #"{"status":"ok"}"#)
    }
    // Shutdown (at the end of `test`) drains the tasks: all three ran.
    #expect(app.taskTotals?.completed == 3)
}
