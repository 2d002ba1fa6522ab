import HTTPTypes
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
            let preflight = try await client.execute(.options, "/data", headerFields: [
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
}
