import HTTPTypes
import Logging
import Loopwork
import Synchronization

/// Background tasks that ran to the end; the client waits on it so that a `POST /tasks` is
/// counted with its task.
let completedTasks = Atomic<Int>(0)

@Sendable func countTask() async {
    completedTasks.add(1, ordering: .releasing)
}

/// The size of every streamed chunk: small enough that the kernel takes each write at once
/// (a write it does not take is copied for libuv's queue, which would depend on the machine).
let streamChunkSize = 1024
/// Chunks in the long streamed response; the per-chunk count is its excess over the 1-chunk one.
let streamChunks = 33
let streamChunk = [UInt8](repeating: UInt8(ascii: "x"), count: streamChunkSize)

/// The demo's benchmark routes (`Sources/LoopworkDemo`) without its middleware, which is not
/// what a plain request costs, plus two streamed responses for the per-chunk count.
func makeApp() -> App {
    let app = App(configuration: AppConfiguration(host: "127.0.0.1", port: 0, workers: 1))
    app.addTasks(config: TaskConfig(shield: true))

    app.get("/plaintext") { "Hello, World!" }

    app.get("/json") { ["message": "Hello, World!"] }

    app.post("/tasks") { (tasks: Tasks) in
        tasks.afterResponse.schedule(countTask)
        return StatusResponse(.accepted, ["status": "ok"])
    }

    // As the demo's `/download`: a producer writing one constant block, so the bytes are not
    // the producer's allocations but the server's.
    app.get("/stream/1") { () -> Response in streamed(chunks: 1) }
    app.get("/stream/\(streamChunks)") { () -> Response in streamed(chunks: streamChunks) }
    return app
}

private func streamed(chunks: Int) -> Response {
    Response(
        headerFields: [.contentType: "application/octet-stream"],
        body: ResponseBody { writer in
            for _ in 0..<chunks { try await writer.write(streamChunk) }
        })
}

/// The demo's access log alone: `RequestLoggingMiddleware` at `.info` into a `BufferedLogHandler`
/// on standard output, which this process points at /dev/null (see `output(_:)`).
func makeLoggedApp() -> App {
    let logger = Logger(label: "allocations") { BufferedLogHandler.standardOutput(label: $0) }
    let app = App(configuration: AppConfiguration(host: "127.0.0.1", port: 0, workers: 1), logger: logger)
    app.add(middleware: RequestLoggingMiddleware(level: .info))
    app.get("/plaintext") { "Hello, World!" }
    return app
}
