import HTTPTypes
import Loopwork
import LoopworkTesting
import Testing

@Suite("Routing")
struct RoutingTests {
    private func makeApp() -> App {
        let app = App(configuration: AppConfiguration(workers: 1))
        app.get("/plaintext") { "Hello, World!" }
        app.get("/users/{id}") { (path: PathParameters) in "user \(try path.require("id", as: Int.self))" }
        app.get("/users/me") { "me" }
        app.post("/users") { "created" }
        let api = app.group("/api/v1")
        api.get("/items/{name}/tags") { (path: PathParameters) in "tags of \(path["name"] ?? "")" }
        return app
    }

    @Test func literalRoute() async throws {
        try await makeApp().test(.router) { client async throws in
            let response = try await client.execute(.get, "/plaintext")
            #expect(response.status == .ok)
            #expect(response.text == "Hello, World!")
            #expect(response.headerFields[.contentType] == "text/plain; charset=utf-8")
        }
    }

    @Test func pathParameterIsCapturedAndConverted() async throws {
        try await makeApp().test(.router) { client async throws in
            #expect(try await client.execute(.get, "/users/42").text == "user 42")
            let bad = try await client.execute(.get, "/users/abc")
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text == #"{"detail":"path parameter 'id' is not a valid Int"}"#)
        }
    }

    @Test func literalSegmentWinsOverParameter() async throws {
        try await makeApp().test(.router) { client async throws in
            #expect(try await client.execute(.get, "/users/me").text == "me")
        }
    }

    @Test func groupPrefixAndPercentDecoding() async throws {
        try await makeApp().test(.router) { client async throws in
            #expect(try await client.execute(.get, "/api/v1/items/a%20b/tags").text == "tags of a b")
        }
    }

    @Test func unknownPathIs404() async throws {
        try await makeApp().test(.router) { client async throws in
            let response = try await client.execute(.get, "/nope")
            #expect(response.status == .notFound)
            #expect(response.text == #"{"detail":"no route for /nope"}"#)
        }
    }

    @Test func wrongMethodIs405WithAllow() async throws {
        try await makeApp().test(.router) { client async throws in
            let response = try await client.execute(.delete, "/users")
            #expect(response.status == .methodNotAllowed)
            #expect(response.headerFields[.allow] == "POST")
            let withHead = try await client.execute(.post, "/plaintext")
            #expect(withHead.headerFields[.allow] == "GET, HEAD")
        }
    }

    // RFC 9110 §9.1: a method the server does not recognize is 501 on any path; one a route
    // uses is recognized, so it gets 404 or 405 like the standard ones.
    @Test func anUnrecognizedMethodIs501WhateverThePath() async throws {
        let app = makeApp()
        let purge = HTTPRequest.Method("PURGE")!
        app.on(purge, "/cache", use: { "purged" })
        try await app.test(.router) { client in
            for path in ["/nope", "/users", "/plaintext"] {
                let response = try await client.execute(HTTPRequest.Method("MKCOLA")!, path)
                #expect(response.status == .notImplemented, "\(path)")
                #expect(response.text == #"{"detail":"method MKCOLA is not implemented"}"#)
            }
            #expect(try await client.execute(purge, "/cache").text == "purged")
            #expect(try await client.execute(purge, "/nope").status == .notFound)
            let wrongPath = try await client.execute(purge, "/plaintext")
            #expect(wrongPath.status == .methodNotAllowed)
            #expect(wrongPath.headerFields[.allow] == "GET, HEAD")
            #expect(try await client.execute(.patch, "/nope").status == .notFound)
        }
    }

    @Test func headIsAnsweredByGetWithoutBody() async throws {
        try await makeApp().test(.router) { client async throws in
            let response = try await client.execute(.head, "/plaintext")
            #expect(response.status == .ok)
            #expect(response.body.isEmpty)
        }
    }

    @Test func queryParametersAreDecoded() async throws {
        let app = App(configuration: AppConfiguration(workers: 1))
        app.get("/search") { (query: QueryParameters) in
            "\(query["q"] ?? "-")|\(query.values(for: "tag").joined(separator: ","))|\(try query.require("page", as: Int.self))"
        }
        try await app.test(.router) { client async throws in
            #expect(
                try await client.execute(.get, "/search?q=hello+world%21&tag=a&tag=b&page=3").text
                    == "hello world!|a,b|3")
            let missing = try await client.execute(.get, "/search?q=x")
            #expect(missing.status == .unprocessableContent)
            #expect(missing.text.contains("missing query parameter 'page'"))
        }
    }

    /// Hex digits of either case decode; a broken escape stays as sent.
    @Test func percentEscapesDecodeInEitherCaseAndBrokenOnesStay() {
        let query = QueryParameters(parsing: "a=%4a%4A%7e&b=%zz%4&c=%")
        #expect(query["a"] == "JJ~")
        #expect(query["b"] == "%zz%4")
        #expect(query["c"] == "%")
    }

    @Test func registrationErrorsStopTheStart() async throws {
        let app = App(configuration: AppConfiguration(workers: 1))
        app.get("/a/{id}") { "one" }
        app.get("/a/{id}") { "again" }
        await #expect(throws: AppConfigurationError.self) {
            try await app.test(.router) { _ in }
        }
        let malformed = App(configuration: AppConfiguration(workers: 1))
        malformed.get("/a/{id") { "x" }
        do {
            try await malformed.test(.router) { _ in }
            Issue.record("a malformed pattern must stop the start")
        } catch let error as AppConfigurationError {
            #expect(error.message.contains("malformed parameter segment"))
        }
    }
}
