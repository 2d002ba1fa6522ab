import Loopwork
import LoopworkDurable
import LoopworkTesting
import Testing

@Suite("Durable tasks: what refuses to start")
struct DurableStartTests {
    struct Unregistered: DurableJob {
        static let name = "unregistered"
        struct Parameters: Codable, Sendable {}
        func run(_ parameters: Parameters, context: JobContext) async throws {}
    }

    struct Impostor: DurableJob {
        static let name = Greet.name
        struct Parameters: Codable, Sendable {}
        func run(_ parameters: Parameters, context: JobContext) async throws {}
    }

    private func startError(_ app: App) async -> String? {
        do {
            try await app.test(.router) { _ in }
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("a route scheduling durable jobs without addDurableTasks names the route and the fix")
    func withoutAddDurableTasks() async {
        let app = App()
        app.post("/signup") { (_: DurableTasks<Greet>) in "ok" }
        let message = await startError(app)
        #expect(message?.contains("POST /signup") == true, "\(message ?? "started")")
        #expect(message?.contains("addDurableTasks") == true)
    }

    @Test("a route scheduling a job type that was not registered names the job")
    func unregisteredJob() async throws {
        let app = App()
        try app.addDurableTasks(postgres: "postgres://127.0.0.1:1/none", jobs: [Greet(log: JobLog())])
        app.post("/x") { (_: DurableTasks<Unregistered>) in "ok" }
        let message = await startError(app)
        #expect(message?.contains("'unregistered'") == true, "\(message ?? "started")")
    }

    @Test("a route scheduling a type whose name belongs to another registered type is refused")
    func nameOfAnotherType() async throws {
        let app = App()
        try app.addDurableTasks(postgres: "postgres://127.0.0.1:1/none", jobs: [Greet(log: JobLog())])
        app.post("/x") { (_: DurableTasks<Impostor>) in "ok" }
        let message = await startError(app)
        #expect(message?.contains("registered for another type") == true, "\(message ?? "started")")
    }

    @Test("two job types with one name are refused when registered")
    func duplicateNames() {
        let app = App()
        #expect(throws: DurableTasksError.self) {
            try app.addDurableTasks(postgres: "postgres://127.0.0.1:1/none", jobs: [Greet(log: JobLog()), Impostor()])
        }
    }

    @Test("a schema name that is not a plain identifier is refused at start")
    func badSchema() async throws {
        let app = App()
        try app.addDurableTasks(postgres: "postgres://127.0.0.1:1/none", jobs: [Greet(log: JobLog())],
                                configuration: DurableTasksConfiguration(postgres: "", schema: "jobs; DROP TABLE users"))
        let message = await startError(app)
        #expect(message?.contains("lowercase letters") == true, "\(message ?? "started")")
    }

    @Test("a database that cannot be reached fails the start with the reason, password hidden")
    func databaseDown() async throws {
        let app = App()
        try app.addDurableTasks(postgres: "postgres://worker:secret@127.0.0.1:1/none", jobs: [Greet(log: JobLog())])
        let message = await startError(app)
        #expect(message?.contains("cannot start") == true, "\(message ?? "started")")
        #expect(message?.contains("refused") == true, "\(message ?? "started")")
        #expect(message?.contains("secret") == false)
    }
}
