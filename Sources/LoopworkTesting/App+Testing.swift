import HTTPTypes
public import Loopwork

extension App {
    /// Starts the app in `mode`, runs `body` with a client for it, then shuts the app down
    /// gracefully (also when `body` throws).
    ///
    /// In `.live` mode the configured host and port are replaced by 127.0.0.1 and an ephemeral
    /// port; the other settings (workers, limits, timeouts) apply as configured.
    ///
    /// ```swift
    /// try await app.test(.live) { client throws in
    ///     #expect(try await client.execute(.get, "/").status == .ok)
    /// }
    /// ```
    ///
    /// Write `throws` when the body's only `try` is inside a macro such as `#expect`: Swift infers
    /// a closure's `throws` from the `try`s it sees before macros expand, so without it the
    /// expansion's `try` is "not handled" (swiftlang/swift#75256). `async` needs no mention.
    public func test<Result: Sendable>(
        _ mode: TestingMode,
        _ body: @Sendable (any TestClient) async throws -> Result
    ) async throws -> Result {
        let running: RunningApp
        let client: any TestClient
        switch mode.kind {
        case .router:
            running = try await startWithoutListening()
            client = RouterTestClient(running: running)
        case .live:
            running = try await start(host: "127.0.0.1", port: 0)
            client = LiveTestClient(port: running.port)
        }
        do {
            let result = try await body(client)
            await running.shutdown()
            return result
        } catch {
            await running.shutdown()
            throw error
        }
    }
}

struct RouterTestClient: TestClient {
    let running: RunningApp

    func execute(_ method: HTTPRequest.Method, _ path: String, headerFields: HTTPFields, body: [UInt8]) async throws
        -> TestResponse
    {
        var fields = headerFields
        if fields[HTTPField.Name.hostField] == nil { fields[HTTPField.Name.hostField] = "localhost" }
        let head = HTTPRequest(
            method: method, scheme: nil, authority: fields[HTTPField.Name.hostField], path: path, headerFields: fields)
        let response = await running.respond(to: head, body: body)
        // The in-process runtime hands back a streamed body collected.
        let bytes = response.body.bytes ?? []
        var responseFields = response.headerFields
        if responseFields[.contentLength] == nil,
            let length = response.body.length ?? (method == .head ? nil : bytes.count)
        {
            responseFields[.contentLength] = String(length)
        }
        return TestResponse(
            status: response.status, headerFields: responseFields,
            body: method == .head ? [] : bytes)
    }
}
