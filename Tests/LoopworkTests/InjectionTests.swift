import HTTPTypes
import Logging
import Loopwork
import LoopworkTesting
import Testing

private struct Order: Codable, Equatable, ResponseEncodable {
    let id: Int
    let item: String
}

/// A user-defined dependency: the caller named in a header, or 401.
private struct Caller: RequestDependency {
    let name: String

    static func resolve(from request: Request) async throws -> Caller {
        guard let name = request.headerFields[HTTPField.Name("X-Caller")!] else {
            throw HTTPError(.unauthorized, detail: "X-Caller missing")
        }
        return Caller(name: name)
    }
}

@Suite("Injection")
struct InjectionTests {
    @Test func jsonBodyIsDecodedAndEncodableResultIsJSON() async throws {
        let app = App(configuration: AppConfiguration(workers: 1))
        app.post("/orders") { (order: JSONBody<Order>) in
            StatusResponse(.created, order.value)
        }
        try await app.test(.router) { client async throws in
            let response = try await client.execute(
                .post, "/orders", headerFields: [.contentType: "application/json"],
                body: #"{"id":7,"item":"tea"}"#)
            #expect(response.status == .created)
            #expect(response.headerFields[.contentType] == "application/json")
            #expect(response.text == #"{"id":7,"item":"tea"}"#)
        }
    }

    @Test func invalidJSONIs422WithDetail() async throws {
        let app = App(configuration: AppConfiguration(workers: 1))
        app.post("/orders") { (order: JSONBody<Order>) in order.value }
        try await app.test(.router) { client async throws in
            let missing = try await client.execute(.post, "/orders", body: #"{"id":7}"#)
            #expect(missing.status == .unprocessableContent)
            #expect(missing.text == #"{"detail":"invalid JSON body for Order: missing field 'item'"}"#)
            let wrongType = try await client.execute(.post, "/orders", body: #"{"id":"x","item":"tea"}"#)
            #expect(wrongType.text.contains("field 'id' should be Int"))
            let notJSON = try await client.execute(.post, "/orders", body: "{nope")
            #expect(notJSON.status == .unprocessableContent)
            let empty = try await client.execute(.post, "/orders")
            #expect(empty.text.contains("request body is empty"))
            let wrongMedia = try await client.execute(
                .post, "/orders", headerFields: [.contentType: "text/plain"], body: "{}")
            #expect(wrongMedia.status == .unsupportedMediaType)
        }
    }

    @Test func userDependencyResolvesOrRejects() async throws {
        let app = App(configuration: AppConfiguration(workers: 1))
        app.get("/me") { (caller: Caller, query: QueryParameters) in "\(caller.name) \(query["x"] ?? "")" }
        try await app.test(.router) { client async throws in
            #expect(
                try await client.execute(.get, "/me?x=1", headerFields: [HTTPField.Name("X-Caller")!: "ada"]).text
                    == "ada 1")
            let anonymous = try await client.execute(.get, "/me")
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.text == #"{"detail":"X-Caller missing"}"#)
        }
    }

    @Test func requestHeadersAndRawBody() async throws {
        let app = App(configuration: AppConfiguration(workers: 1))
        app.put("/raw") { (fields: HTTPFields, body: RawBody, request: Request) in
            "\(fields[.contentType] ?? "-") \(body.bytes.count) \(request.method.rawValue) \(request.path)"
        }
        try await app.test(.router) { client async throws in
            let response = try await client.execute(
                .put, "/raw?q=1", headerFields: [.contentType: "a/b"], body: [1, 2, 3])
            #expect(response.text == "a/b 3 PUT /raw")
        }
    }

    @Test func thrownErrorIs500WithoutItsText() async throws {
        struct Secret: Error {}
        let app = App(configuration: AppConfiguration(workers: 1))
        app.get("/boom") { () throws -> String in throw Secret() }
        app.get("/ok") { "still serving" }
        try await app.test(.router) { client async throws in
            let response = try await client.execute(.get, "/boom")
            #expect(response.status == .internalServerError)
            #expect(response.text == #"{"detail":"Internal Server Error"}"#)
            #expect(try await client.execute(.get, "/ok").text == "still serving")
        }
    }
}
