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
        #expect(response.text == "Hi, Ada!")
    }
}

@Test func answersTheRootOverTheRouter() async throws {
    let app = App(configuration: AppConfiguration(workers: 1))
    installRoutes(on: app)
    // A body that holds only an expectation: the obvious form compiles.
    try await app.test(.router) { client in #expect(try await client.execute(.get, "/hello/Ada").status == .ok) }
}
