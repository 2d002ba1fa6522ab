import HTTPTypes
import Logging
import Loopwork

/// The streaming endpoints, which are also the streaming benchmark contract of the peer harness
/// (`Benchmarks/peers`, its README's streaming section).
extension DemoRoutes {
    /// The largest download `/download` serves, as the harness's peers do.
    static let maxDownload = 1 << 32
    /// One constant 64 KiB block, written as many times as a download needs.
    static let downloadBlock = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)

    static func installStreamingRoutes(on app: App) {
        app.post("/upload") { (body: RequestBody) in
            var count = 0
            for try await chunk in body.withLimit(8 << 30) { count += chunk.count }
            return UploadReceipt(bytes: count)
        }

        app.get("/download") { (query: QueryParameters) -> Response in
            let total = try integer(query, "bytes", default: 1 << 30, max: maxDownload)
            return Response(
                headerFields: [.contentType: "application/octet-stream"],
                body: ResponseBody { writer in
                    var left = total
                    while left > 0 {
                        let count = min(left, downloadBlock.count)
                        try await writer.write(
                            count == downloadBlock.count ? downloadBlock : Array(downloadBlock[..<count]))
                        left -= count
                    }
                })
        }

        app.get("/sse") { (query: QueryParameters) -> Response in
            let events = try integer(query, "events", default: 10, max: 1_000_000)
            let interval = try integer(query, "interval_ms", default: 1000, max: 60_000)
            return .eventStream(heartbeat: nil) { stream in
                for index in 0..<events {
                    if index > 0 { try await Task.sleep(for: .milliseconds(interval)) }
                    try await stream.send(ServerSentEvent(data: "\(index)"))
                }
            }
        }

        // Both timings around a streamed body, in the log: after-route before the first chunk,
        // after-response once the last byte is out (or the client is gone; not at all when the
        // body fails, with `fail_after=N`).
        app.post("/tasks/stream") { (tasks: Tasks, logger: Logger, query: QueryParameters) -> Response in
            let clock = DemoClock()
            let chunks = try integer(query, "chunks", default: 8, max: 1_000_000)
            let chunkBytes = try integer(query, "chunk_bytes", default: 16, max: 1 << 20)
            let failAfter = query["fail_after"] == nil ? nil : try integer(query, "fail_after", default: 0, max: chunks)
            tasks.afterRoute.schedule(logTiming, "after-route", clock, logger)
            tasks.afterResponse.schedule(logTiming, "after-response", clock, logger)
            logger.info("handler returning", metadata: ["elapsed-us": "\(clock.elapsedMicroseconds)"])
            let chunk = [UInt8](repeating: UInt8(ascii: "s"), count: chunkBytes)
            return Response(
                status: .accepted, headerFields: [.contentType: "application/octet-stream"],
                body: ResponseBody { writer in
                    for index in 0..<chunks {
                        if index == failAfter { throw DemoStreamError(chunk: index) }
                        if index == 0 || index == chunks - 1 {
                            logger.info(
                                "writing chunk",
                                metadata: ["chunk": "\(index)", "elapsed-us": "\(clock.elapsedMicroseconds)"])
                        }
                        try await writer.write(chunk)
                    }
                })
        }
    }

    /// An integer query parameter in `0...max`, `fallback` when absent; anything else is a 400.
    static func integer(_ query: QueryParameters, _ name: String, default fallback: Int, max: Int) throws -> Int {
        guard let raw = query[name] else { return fallback }
        guard raw.utf8.count <= 16, raw.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let value = Int(raw), value <= max
        else {
            throw HTTPError(.badRequest, detail: "\(name) must be an integer in 0...\(max)")
        }
        return value
    }
}

/// The failure `/tasks/stream?fail_after=N` throws mid-stream.
struct DemoStreamError: Error, CustomStringConvertible {
    let chunk: Int
    var description: String { "the demo's producer failed on purpose before chunk \(chunk)" }
}

/// `POST /upload`'s answer: how many body bytes arrived.
struct UploadReceipt: ResponseEncodable {
    let bytes: Int
}
