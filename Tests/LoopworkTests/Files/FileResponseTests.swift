import HTTPTypes
import LoopworkTesting
import LoopworkUV
import Testing

@testable import Loopwork

/// Runs `body` against an app whose `/file/<name>` answers with `Response.file` for the
/// fixture's `public/<name>`.
func withFileRoutes(_ mode: TestingMode, _ body: @Sendable (any TestClient, FileFixture) async throws -> Void)
    async throws
{
    let fixture = try FileFixture()
    defer { fixture.remove() }
    let app = App(configuration: AppConfiguration(workers: 1))
    let root = fixture.root
    app.get("/file/{name}") { (request: Request, parameters: PathParameters) in
        try await Response.file(root + "/" + (parameters["name"] ?? ""), for: request)
    }
    app.get("/typed") { (request: Request) in
        try await Response.file(root + "/hello.txt", for: request, contentType: "text/x-greeting")
    }
    try await app.test(mode) { client in try await body(client, fixture) }
}

@Suite("Response.file")
struct FileResponseTests {
    @Test func sendsTheWholeFileWithItsValidators() async throws {
        try await withFileRoutes(.router) { client, _ async throws in
            let response = try await client.execute(.get, "/file/hello.txt")
            #expect(response.status == .ok)
            #expect(response.body == FileFixture.hello)
            #expect(response.headerFields[.contentType] == "text/plain; charset=utf-8")
            #expect(response.headerFields[.contentLength] == String(FileFixture.hello.count))
            #expect(response.headerFields[.acceptRanges] == "bytes")
            #expect(response.headerFields[.eTag]?.hasPrefix("\"") == true)
            let lastModified = try #require(response.headerFields[.lastModified])
            #expect(lastModified.hasSuffix(" GMT"))

            let big = try await client.execute(.get, "/file/big.bin")
            #expect(big.body == FileFixture.big)
            #expect(big.headerFields[.contentType] == "application/octet-stream")
            let empty = try await client.execute(.get, "/file/empty.txt")
            #expect(empty.status == .ok)
            #expect(empty.body.isEmpty)
            let typed = try await client.execute(.get, "/typed")
            #expect(typed.headerFields[.contentType] == "text/x-greeting")
        }
    }

    @Test func missingFilesAndDirectoriesAre404() async throws {
        try await withFileRoutes(.router) { client, _ async throws in
            #expect(try await client.execute(.get, "/file/nope.txt").status == .notFound)
            #expect(try await client.execute(.get, "/file/docs").status == .notFound)
        }
    }

    @Test func aMatchingETagGets304() async throws {
        try await withFileRoutes(.router) { client, _ async throws in
            let first = try await client.execute(.get, "/file/hello.txt")
            let tag = try #require(first.headerFields[.eTag])
            for condition in [tag, "W/" + tag, "\"other\", " + tag, "*"] {
                let response = try await client.execute(
                    .get, "/file/hello.txt", headerFields: [.ifNoneMatch: condition])
                #expect(response.status == .notModified, "If-None-Match: \(condition)")
                #expect(response.body.isEmpty)
                #expect(response.headerFields[.eTag] == tag)
            }
            let changed = try await client.execute(.get, "/file/hello.txt", headerFields: [.ifNoneMatch: "\"other\""])
            #expect(changed.status == .ok)
            #expect(changed.body == FileFixture.hello)
        }
    }

    @Test func anUnchangedDateGets304UnlessIfNoneMatchSaysOtherwise() async throws {
        try await withFileRoutes(.router) { client, _ async throws in
            let first = try await client.execute(.get, "/file/hello.txt")
            let lastModified = try #require(first.headerFields[.lastModified])
            let same = try await client.execute(.get, "/file/hello.txt", headerFields: [.ifModifiedSince: lastModified])
            #expect(same.status == .notModified)
            let later = try await client.execute(
                .get, "/file/hello.txt", headerFields: [.ifModifiedSince: "Fri, 01 Jan 2100 00:00:00 GMT"])
            #expect(later.status == .notModified)
            let older = try await client.execute(
                .get, "/file/hello.txt", headerFields: [.ifModifiedSince: "Sun, 06 Nov 1994 08:49:37 GMT"])
            #expect(older.status == .ok)
            let invalid = try await client.execute(
                .get, "/file/hello.txt", headerFields: [.ifModifiedSince: "last tuesday"])
            #expect(invalid.status == .ok)
            // If-None-Match decides when present: a different tag means the file changed.
            let both = try await client.execute(
                .get, "/file/hello.txt",
                headerFields: [
                    .ifNoneMatch: "\"other\"", .ifModifiedSince: lastModified,
                ])
            #expect(both.status == .ok)
        }
    }

    @Test func oneRangeGets206AndOnePastTheEnd416() async throws {
        try await withFileRoutes(.router) { client, _ async throws in
            let size = FileFixture.big.count
            let middle = try await client.execute(.get, "/file/big.bin", headerFields: [.range: "bytes=70000-140001"])
            #expect(middle.status == .partialContent)
            #expect(middle.body == Array(FileFixture.big[70_000...140_001]))
            #expect(middle.headerFields[.contentRange] == "bytes 70000-140001/\(size)")
            #expect(middle.headerFields[.contentLength] == "70002")

            let suffix = try await client.execute(.get, "/file/hello.txt", headerFields: [.range: "bytes=-6"])
            #expect(suffix.status == .partialContent)
            #expect(suffix.text == "world\n")
            #expect(suffix.headerFields[.contentRange] == "bytes 7-12/13")

            let open = try await client.execute(.get, "/file/hello.txt", headerFields: [.range: "bytes=7-"])
            #expect(open.text == "world\n")

            let past = try await client.execute(.get, "/file/hello.txt", headerFields: [.range: "bytes=13-"])
            #expect(past.status == .rangeNotSatisfiable)
            #expect(past.headerFields[.contentRange] == "bytes */13")
            #expect(past.body.isEmpty)

            let several = try await client.execute(.get, "/file/hello.txt", headerFields: [.range: "bytes=0-1,3-4"])
            #expect(several.status == .ok)
            #expect(several.body == FileFixture.hello)
        }
    }

    @Test func ifRangeServesTheRangeOnlyForTheCurrentFile() async throws {
        try await withFileRoutes(.router) { client, _ async throws in
            let first = try await client.execute(.get, "/file/hello.txt")
            let tag = try #require(first.headerFields[.eTag])
            let lastModified = try #require(first.headerFields[.lastModified])
            for validator in [tag, lastModified] {
                let current = try await client.execute(
                    .get, "/file/hello.txt", headerFields: [.range: "bytes=0-4", .ifRange: validator])
                #expect(current.status == .partialContent, "If-Range: \(validator)")
                #expect(current.text == "hello")
            }
            for stale in ["\"old\"", "W/" + tag, "Sun, 06 Nov 1994 08:49:37 GMT"] {
                let outdated = try await client.execute(
                    .get, "/file/hello.txt", headerFields: [.range: "bytes=0-4", .ifRange: stale])
                #expect(outdated.status == .ok, "If-Range: \(stale)")
                #expect(outdated.body == FileFixture.hello)
            }
        }
    }

    @Test func headGetsTheHeadOnly() async throws {
        try await withFileRoutes(.router) { client, _ async throws in
            let response = try await client.execute(.head, "/file/hello.txt")
            #expect(response.status == .ok)
            #expect(response.body.isEmpty)
            #expect(response.headerFields[.eTag] != nil)
        }
    }
}

@Suite("Response.file over a socket")
struct FileResponseLiveTests {
    @Test func wholeFilesRangesAndHeadOverTheWire() async throws {
        try await withFileRoutes(.live) { client, _ async throws in
            let big = try await client.execute(.get, "/file/big.bin")
            #expect(big.status == .ok)
            #expect(big.headerFields[.contentLength] == String(FileFixture.big.count))
            #expect(big.body == FileFixture.big)

            let range = try await client.execute(.get, "/file/big.bin", headerFields: [.range: "bytes=65530-65545"])
            #expect(range.status == .partialContent)
            #expect(range.body == Array(FileFixture.big[65_530...65_545]))

            let head = try await client.execute(.head, "/file/big.bin")
            #expect(head.status == .ok)
            #expect(head.headerFields[.contentLength] == String(FileFixture.big.count))
            #expect(head.body.isEmpty)

            let tag = try #require(big.headerFields[.eTag])
            let notModified = try await client.execute(.get, "/file/big.bin", headerFields: [.ifNoneMatch: tag])
            #expect(notModified.status == .notModified)
            #expect(notModified.headerFields[.contentLength] == nil)
            // The connection is still usable after each of them.
            #expect(try await client.execute(.get, "/file/hello.txt").body == FileFixture.hello)
        }
    }
}

/// A client that takes `accepting` writes, then is gone.
private final class VanishingClient: ResponseBodySink {
    private let accepted = Locked(0)
    private let accepting: Int

    init(accepting: Int) { self.accepting = accepting }

    var writes: Int { accepted.withLock { $0 } }

    func write(_ bytes: [UInt8]) async throws {
        try accepted.withLock { count in
            guard count < accepting else { throw ResponseBodyError.clientDisconnected }
            count += 1
        }
    }

    func setTrailers(_ trailers: HTTPFields) async throws {}
}

@Suite("Response.file body")
struct FileBodyTests {
    private func produce(_ body: ResponseBody, into client: VanishingClient) async throws {
        guard case .stream(let produce) = body.storage else {
            Issue.record("a file body is a producer")
            return
        }
        try await produce(ResponseBodyWriter(sink: client))
    }

    @Test func theFileIsClosedWhenTheClientIsGoneOrTheBodyIsDone() async throws {
        let fixture = try FileFixture()
        defer { fixture.remove() }
        let loop = try EventLoop()
        let gone = try await LoopFile.open(fixture.root + "/big.bin", on: loop)
        let client = VanishingClient(accepting: 1)
        await #expect(throws: ResponseBodyError.clientDisconnected) {
            try await produce(FileResponse.body(of: gone, 0..<Int64(FileFixture.big.count)), into: client)
        }
        #expect(client.writes == 1)
        let afterGone = await #expect(throws: UVError.self) { try await gone.read(upTo: 1, at: 0) }
        #expect(afterGone?.name == "EBADF")

        let done = try await LoopFile.open(fixture.root + "/big.bin", on: loop)
        let patient = VanishingClient(accepting: .max)
        try await produce(FileResponse.body(of: done, 0..<Int64(FileFixture.big.count)), into: patient)
        #expect(patient.writes == 4)  // 200 000 bytes in 64 KiB reads
        let afterDone = await #expect(throws: UVError.self) { try await done.read(upTo: 1, at: 0) }
        #expect(afterDone?.name == "EBADF")
        await loop.shutdownGracefully()
    }

    @Test func aFileThatShrankWhileSentFailsTheBody() async throws {
        let fixture = try FileFixture()
        defer { fixture.remove() }
        let loop = try EventLoop()
        let file = try await LoopFile.open(fixture.root + "/hello.txt", on: loop)
        // The body promises more bytes than the file has left, as after a truncation.
        await #expect(throws: FileResponseError.self) {
            try await produce(FileResponse.body(of: file, 0..<100), into: VanishingClient(accepting: .max))
        }
        let after = await #expect(throws: UVError.self) { try await file.read(upTo: 1, at: 0) }
        #expect(after?.name == "EBADF")
        await loop.shutdownGracefully()
    }
}
