import HTTPTypes
import Logging
import Loopwork
import LoopworkTesting
import Testing

private struct Tag: Middleware {
    let name: String

    func respond(to request: Request, next: Responder) async throws -> Response {
        var response = try await next(request)
        let previous = response.headerFields[HTTPField.Name("X-Order")!].map { $0 + "," } ?? ""
        response.headerFields[HTTPField.Name("X-Order")!] = previous + name
        return response
    }
}

@Suite("Middleware")
struct MiddlewareTests {
    @Test func firstAddedIsOutermost() async throws {
        let app = App(configuration: AppConfiguration(workers: 1))
        app.add(middleware: Tag(name: "outer"))
        app.add(middleware: Tag(name: "inner"))
        app.get("/") { "x" }
        try await app.test(.router) { client async throws in
            let response = try await client.execute(.get, "/")
            #expect(response.headerFields[HTTPField.Name("X-Order")!] == "inner,outer")
        }
    }

    @Test func requestIDIsEchoedOrCreated() async throws {
        let app = App(configuration: AppConfiguration(workers: 1))
        app.add(middleware: RequestIDMiddleware())
        app.get("/") { "x" }
        try await app.test(.router) { client async throws in
            let created = try await client.execute(.get, "/")
            #expect(created.headerFields[RequestIDMiddleware.field]?.isEmpty == false)
            let missing = try await client.execute(.get, "/missing")
            #expect(missing.status == .notFound)
            #expect(missing.headerFields[RequestIDMiddleware.field] != nil)
        }
    }

    @Test func corsPreflightAndSimpleRequest() async throws {
        let app = App(configuration: AppConfiguration(workers: 1))
        app.add(middleware: CORSMiddleware(origins: .only(["https://a.example"])))
        app.get("/data") { "d" }
        try await app.test(.router) { client async throws in
            let preflight = try await client.execute(
                .options, "/data",
                headerFields: [
                    .origin: "https://a.example", .accessControlRequestMethod: "GET",
                ])
            #expect(preflight.status == .noContent)
            #expect(preflight.headerFields[.accessControlAllowOrigin] == "https://a.example")
            let simple = try await client.execute(.get, "/data", headerFields: [.origin: "https://a.example"])
            #expect(simple.headerFields[.accessControlAllowOrigin] == "https://a.example")
            let stranger = try await client.execute(.get, "/data", headerFields: [.origin: "https://evil.example"])
            #expect(stranger.headerFields[.accessControlAllowOrigin] == nil)
        }
    }

    private struct Boom: Error {}

    /// Throws instead of calling `next`, as a broken authentication middleware would.
    private struct Throwing: Middleware {
        func respond(to request: Request, next: Responder) async throws -> Response { throw Boom() }
    }

    @Test func everyMiddlewareSeesAResponseForFailedRequests() async throws {
        let logs = EndToEndLogs()
        let app = App(configuration: AppConfiguration(workers: 1), logger: logs.logger)
        app.add(middleware: RequestLoggingMiddleware(level: .info))
        app.add(middleware: CORSMiddleware(origins: .any))
        app.add(middleware: RequestIDMiddleware())
        app.add(middleware: Tag(name: "inner"))
        app.get("/boom") { () throws -> String in throw Boom() }
        app.get("/teapot") { () throws -> String in throw HTTPError(.init(code: 418)) }
        app.get("/user/{id}") { (path: PathParameters) in "user \(try path.require("id", as: Int.self))" }
        app.post("/only-post") { "x" }
        try await app.test(.router) { client in
            let origin: HTTPFields = [.origin: "https://a.example"]
            for (path, method, status) in [
                ("/boom", HTTPRequest.Method.get, 500), ("/teapot", .get, 418),
                ("/missing", .get, 404), ("/only-post", .get, 405),
                ("/user/x", .get, 422), ("/x", HTTPRequest.Method("MKCOLA")!, 501),
            ] {
                let response = try await client.execute(method, path, headerFields: origin)
                #expect(response.status.code == status, "\(path)")
                #expect(response.headerFields[.accessControlAllowOrigin] == "*", "\(path)")
                #expect(response.headerFields[RequestIDMiddleware.field]?.isEmpty == false, "\(path)")
                #expect(response.headerFields[HTTPField.Name("X-Order")!] == "inner", "\(path)")
            }
        }
        let lines = logs.entries.filter { $0.metadata["duration-us"] != nil }.map(\.message)
        #expect(
            lines == [
                "GET /boom 500", "GET /teapot 418", "GET /missing 404", "GET /only-post 405",
                "GET /user/x 422", "MKCOLA /x 501",
            ])
        // The 500 hides the error from the client and logs it once, where it was thrown.
        #expect(logs.entries("handler failed").count == 1)
    }

    @Test func anErrorAMiddlewareThrowsBecomesAResponseTheOuterOnesSee() async throws {
        let logs = EndToEndLogs()
        let app = App(configuration: AppConfiguration(workers: 1), logger: logs.logger)
        app.add(middleware: Tag(name: "outer"))
        app.add(middleware: Throwing())
        app.get("/") { "never" }
        try await app.test(.router) { client in
            let response = try await client.execute(.get, "/")
            #expect(response.status == .internalServerError)
            #expect(response.headerFields[HTTPField.Name("X-Order")!] == "outer")
            #expect(!response.text.contains("Boom"))
        }
        #expect(logs.entries.contains { $0.message.hasPrefix("middleware") && $0.message.hasSuffix("failed") })
    }
}
