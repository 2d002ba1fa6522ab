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
