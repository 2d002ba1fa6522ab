import HTTPTypes
import LoopworkTesting
import Testing

@testable import Loopwork

/// Runs `body` against an app serving the fixture's `public` under `prefix`, with a few routes
/// that show what falls through.
private func withStaticFiles(
    _ mode: TestingMode, prefix: String = "/static",
    _ body: @Sendable (any TestClient) async throws -> Void
) async throws {
    let fixture = try FileFixture()
    defer { fixture.remove() }
    let app = App(configuration: AppConfiguration(workers: 1))
    app.add(middleware: FileMiddleware(root: fixture.root, urlPrefix: prefix))
    app.get("/static/missing.txt") { "from the router" }
    app.post("/static/hello.txt") { "posted" }
    app.get("/elsewhere") { "elsewhere" }
    try await app.test(mode, body)
}

@Suite("FileMiddleware")
struct FileMiddlewareTests {
    @Test func servesFilesUnderThePrefix() async throws {
        try await withStaticFiles(.router) { client async throws in
            let hello = try await client.execute(.get, "/static/hello.txt")
            #expect(hello.status == .ok)
            #expect(hello.body == FileFixture.hello)
            #expect(hello.headerFields[.contentType] == "text/plain; charset=utf-8")
            let css = try await client.execute(.get, "/static/docs/guide.css")
            #expect(css.text == "body{}")
            #expect(css.headerFields[.contentType] == "text/css; charset=utf-8")
            let big = try await client.execute(.get, "/static/big.bin", headerFields: [.range: "bytes=100-199"])
            #expect(big.status == .partialContent)
            #expect(big.body == Array(FileFixture.big[100...199]))
            let head = try await client.execute(.head, "/static/hello.txt")
            #expect(head.status == .ok)
            #expect(head.body.isEmpty)
            #expect(head.headerFields[.contentLength] == String(FileFixture.hello.count))
        }
    }

    @Test func percentEncodedNamesAreDecoded() async throws {
        try await withStaticFiles(.router) { client async throws in
            #expect(try await client.execute(.get, "/static/%68ello.txt").body == FileFixture.hello)
            #expect(try await client.execute(.get, "/static/docs%2Fguide.css").status == .badRequest)
        }
    }

    @Test func aDirectoryServesItsIndexAndIsRedirectedToItsSlash() async throws {
        try await withStaticFiles(.router) { client async throws in
            let index = try await client.execute(.get, "/static/docs/")
            #expect(index.status == .ok)
            #expect(index.body == FileFixture.index)
            #expect(index.headerFields[.contentType] == "text/html; charset=utf-8")
            let redirect = try await client.execute(.get, "/static/docs?lang=en")
            #expect(redirect.status == .movedPermanently)
            #expect(redirect.headerFields[.location] == "./docs/?lang=en")
            // The root itself has no index.html: the router answers.
            #expect(try await client.execute(.get, "/static/").status == .notFound)
        }
    }

    @Test func otherMethodsMissingFilesAndOtherPathsFallThrough() async throws {
        try await withStaticFiles(.router) { client async throws in
            #expect(try await client.execute(.post, "/static/hello.txt").text == "posted")
            #expect(try await client.execute(.get, "/static/missing.txt").text == "from the router")
            #expect(try await client.execute(.get, "/static/nowhere/deeper.txt").status == .notFound)
            #expect(try await client.execute(.get, "/static/docs/guide.css/").status == .notFound)
            #expect(try await client.execute(.get, "/elsewhere").text == "elsewhere")
            // A prefix matches whole segments only.
            #expect(try await client.execute(.get, "/statichello.txt").status == .notFound)
        }
    }

    @Test(arguments: [
        "/static/../private/secret.txt", "/static/%2e%2e/private/secret.txt", "/static/%2E%2E/%2e%2e/etc/passwd",
        "/static/docs/../../private/secret.txt", "/static/..%2fprivate%2fsecret.txt", "/static/..\\private\\secret.txt",
        "/static/hello.txt%00.html", "/static/./hello.txt",
    ])
    func traversalAttemptsAreRefused(_ path: String) async throws {
        try await withStaticFiles(.router) { client async throws in
            let response = try await client.execute(.get, path)
            #expect(response.status == .badRequest, "\(path)")
            #expect(!response.text.contains("top secret"))
        }
    }

    @Test func symbolicLinksOutOfTheRootAre404AndLinksInsideAreServed() async throws {
        try await withStaticFiles(.router) { client async throws in
            let escape = try await client.execute(.get, "/static/escape.txt")
            #expect(escape.status == .notFound)
            #expect(!escape.text.contains("top secret"))
            #expect(try await client.execute(.get, "/static/escape-dir/secret.txt").status == .notFound)
            let inner = try await client.execute(.get, "/static/inner-link.txt")
            #expect(inner.status == .ok)
            #expect(inner.body == FileFixture.hello)
        }
    }

    @Test func theWholeSiteWithTheDefaultPrefix() async throws {
        try await withStaticFiles(.router, prefix: "/") { client async throws in
            #expect(try await client.execute(.get, "/hello.txt").body == FileFixture.hello)
            #expect(try await client.execute(.get, "/docs/").body == FileFixture.index)
            #expect(try await client.execute(.get, "/../private/secret.txt").status == .badRequest)
            #expect(try await client.execute(.get, "/elsewhere").text == "elsewhere")
        }
    }

    @Test func overTheWireTraversalIsRefusedAndFilesStream() async throws {
        try await withStaticFiles(.live) { client async throws in
            let big = try await client.execute(.get, "/static/big.bin")
            #expect(big.body == FileFixture.big)
            #expect(try await client.execute(.get, "/static/../private/secret.txt").status == .badRequest)
            #expect(try await client.execute(.get, "/static/%2e%2e/private/secret.txt").status == .badRequest)
            #expect(try await client.execute(.get, "/static/escape.txt").status == .notFound)
            let head = try await client.execute(.head, "/static/docs/")
            #expect(head.headerFields[.contentLength] == String(FileFixture.index.count))
        }
    }

    // MARK: Path checks

    @Test func segmentsArePercentDecodedAndEmptyOnesSkipped() throws {
        #expect(try FileMiddleware.segments(of: "/a//b%20c/d.txt") == ["a", "b c", "d.txt"])
        #expect(try FileMiddleware.segments(of: "") == [])
        #expect(try FileMiddleware.segments(of: "/%252e%252e") == ["%2e%2e"])
        #expect(try FileMiddleware.segments(of: "/..a/b..") == ["..a", "b.."])
    }

    @Test(arguments: [
        "/..", "/a/../b", "/%2e%2e/etc", "/%2E%2e", "/.%2e", "/./a", "/a\\b", "/a%5cb", "/a%00b", "/a%2fb",
    ])
    func traversalSegmentsAreRefused(_ path: String) {
        #expect(throws: HTTPError.self) { try FileMiddleware.segments(of: Substring(path)) }
    }

    @Test func insideTheRootComparesWholeSegments() {
        #expect(FileMiddleware.isInside("/srv/www", root: "/srv/www"))
        #expect(FileMiddleware.isInside("/srv/www/a/b", root: "/srv/www"))
        #expect(!FileMiddleware.isInside("/srv/wwwx/a", root: "/srv/www"))
        #expect(!FileMiddleware.isInside("/srv", root: "/srv/www"))
        #expect(FileMiddleware.isInside("/etc/passwd", root: "/"))
        // Canonically equivalent names are still different files.
        #expect(!FileMiddleware.isInside("/srv/caf\u{E9}/a", root: "/srv/cafe\u{301}"))
    }
}
