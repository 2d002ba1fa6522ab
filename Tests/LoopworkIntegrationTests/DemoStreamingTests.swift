import Foundation
import Testing

/// Streaming through the real demo binary over real sockets: large transfers with the server's
/// memory bounded, slow and vanishing clients, 100-continue, SSE framing, files, and the task
/// timings around a streamed body, checked by ordering in the server's log.
@Suite("Demo streaming over sockets", .serialized)
struct DemoStreamingTests {
    static let mib = [UInt8](repeating: UInt8(ascii: "u"), count: 1 << 20)
    /// A bound that proves the server streams (the transfer is 1 GiB) with room for a debug or
    /// sanitizer build; the release figure is measured by `Benchmarks/run-stream-bench.sh`.
    static let memoryBound = 32 << 20

    @Test func largeUploadAndDownloadKeepTheServersMemoryBounded() async throws {
        let server = try await DemoServer(workers: 1)
        let port = server.port
        // A first, smaller round lets the heap reach its working size.
        try await upload(port: port, mib: 16)
        _ = try await download(port: port, bytes: 16 << 20)
        let baseline = MemorySampler.residentBytes(of: server.pid)
        let sampler = MemorySampler(pid: server.pid)
        try await upload(port: port, mib: streamTestMiB)
        #expect(try await download(port: port, bytes: streamTestMiB << 20) == streamTestMiB << 20)
        let growth = sampler.stop() - baseline
        #expect(
            growth < Self.memoryBound, "server grew by \(growth >> 20) MiB while moving \(streamTestMiB) MiB each way")
        #expect(await server.stop() == 0)
    }

    private func upload(port: Int, mib: Int) async throws {
        let socket = try StreamSocket(port: port)
        try await socket.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: \(mib << 20)\r\n\r\n")
        try await socket.send(Self.mib, times: mib)
        let answer = try await socket.receive(until: "}")
        #expect(answer.hasPrefix("HTTP/1.1 200"))
        #expect(answer.hasSuffix(#"{"bytes":\#(mib << 20)}"#))
    }

    private func download(port: Int, bytes: Int) async throws -> Int {
        let result = try await Curl.run([
            "--max-time", "120", "-o", "/dev/null", "-w", "%{size_download}",
            "http://127.0.0.1:\(port)/download?bytes=\(bytes)",
        ])
        return Int(result.output) ?? -1
    }

    @Test func aSlowReaderDoesNotGrowTheServersMemory() async throws {
        let server = try await DemoServer(workers: 1)
        _ = try await download(port: server.port, bytes: 16 << 20)
        let baseline = MemorySampler.residentBytes(of: server.pid)
        let sampler = MemorySampler(pid: server.pid)
        let socket = try StreamSocket(port: server.port, receiveBuffer: 256 << 10)
        try await socket.send("GET /download?bytes=\(256 << 20) HTTP/1.1\r\nHost: x\r\n\r\n")
        // About 6 MiB/s: the server has 256 MiB to send and must wait for the client.
        let read = try await socket.drain(pace: 10_000, limit: 12 << 20)
        #expect(read >= 12 << 20)
        let growth = sampler.stop() - baseline
        #expect(growth < 16 << 20, "server grew by \(growth >> 20) MiB for a slow reader")
        socket.abort()
        #expect(try await Curl.run(["http://127.0.0.1:\(server.port)/plaintext"]).output == "Hello, World!")
        #expect(await server.stop() == 0)
        #expect(!server.output.text.contains("still busy at the shutdown deadline"))
    }

    @Test func clientsGoneMidUploadAndMidDownloadLeaveNoHandleOrTaskBehind() async throws {
        let server = try await DemoServer(workers: 1)
        #expect(try await Curl.run(["http://127.0.0.1:\(server.port)/plaintext"]).output == "Hello, World!")
        let descriptors = MemorySampler.openDescriptors(of: server.pid)
        for _ in 0..<5 {
            let uploader = try StreamSocket(port: server.port)
            try await uploader.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: \(1 << 30)\r\n\r\n")
            try await uploader.send(Self.mib, times: 4)
            uploader.abort()
            let downloader = try StreamSocket(port: server.port)
            try await downloader.send("GET /download?bytes=\(1 << 30) HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try await downloader.drain(limit: 4 << 20)
            downloader.abort()
        }
        // Each abandoned exchange closes its connection, and the server still answers.
        #expect(try await Curl.run(["http://127.0.0.1:\(server.port)/plaintext"]).output == "Hello, World!")
        #expect(await MemorySampler.openDescriptors(of: server.pid, settlingAt: descriptors) == descriptors)
        #expect(await server.stop() == 0)
        let log = server.output.text
        #expect(!log.contains("still busy at the shutdown deadline"), "a task or connection stayed stuck:\n\(log)")
    }

    @Test func continueIsSentOnlyWhenTheBodyIsRead() async throws {
        let server = try await DemoServer(workers: 1)
        let base = "http://127.0.0.1:\(server.port)"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("continue-\(UUID().uuidString)")
        try Data(Self.mib + Self.mib).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        // curl asks for 100-continue for bodies over 1 MiB and waits up to a second for it.
        let read = try await Curl.run([
            "-v", "--expect100-timeout", "10", "--data-binary", "@\(file.path)", "\(base)/upload",
        ])
        #expect(read.output.hasSuffix(#"{"bytes":2097152}"#))
        let socket = try StreamSocket(port: server.port)
        try await socket.send(
            "POST /plaintext HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2097152\r\n\r\n")
        let refused = try await socket.receive(until: "\r\n\r\n")
        #expect(refused.hasPrefix("HTTP/1.1 405"), "answered without reading, no 100 first")
        #expect(refused.contains("Connection: close"))
        let continued = try StreamSocket(port: server.port)
        try await continued.send(
            "POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        #expect(try await continued.receive(until: "\r\n\r\n") == "HTTP/1.1 100 Continue\r\n\r\n")
        try await continued.send("abc")
        #expect(try await continued.receive(until: "}").hasSuffix(#"{"bytes":3}"#))
        #expect(await server.stop() == 0)
    }

    @Test func serverSentEventsAreFramedAndEndWithTheProducer() async throws {
        let server = try await DemoServer(workers: 1)
        let events = try await Curl.run(["-i", "http://127.0.0.1:\(server.port)/sse?events=3&interval_ms=5"])
        #expect(events.output.hasPrefix("HTTP/1.1 200"))
        #expect(events.output.contains("Content-Type: text/event-stream"))
        #expect(events.output.contains("Cache-Control: no-cache"))
        #expect(events.output.contains("Transfer-Encoding: chunked"))
        #expect(events.output.hasSuffix("\r\n\r\ndata: 0\n\ndata: 1\n\ndata: 2\n\n"))
        let bad = try await Curl.run([
            "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(server.port)/sse?events=x",
        ])
        #expect(bad.output == "400")
        #expect(await server.stop() == 0)
    }

    @Test func bundledFilesAreServedWithValidatorsAndRanges() async throws {
        let server = try await DemoServer(workers: 1)
        let url = "http://127.0.0.1:\(server.port)/files/hello.txt"
        let whole = try await Curl.run(["-i", url])
        #expect(whole.output.hasPrefix("HTTP/1.1 200"))
        #expect(whole.output.hasSuffix("Hello from a file served by Loopwork.\n"))
        let tag = whole.output.split(separator: "\r\n").first { $0.lowercased().hasPrefix("etag:") }?.dropFirst(6) ?? ""
        let notModified = try await Curl.run([
            "-o", "/dev/null", "-w", "%{http_code}", "-H", "If-None-Match: \(tag)", url,
        ])
        #expect(notModified.output == "304")
        #expect(try await Curl.run(["-r", "6-9", url]).output == "from")
        let traversal = try await Curl.run([
            "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}",
            "http://127.0.0.1:\(server.port)/files/../../Package.swift",
        ])
        #expect(traversal.output == "400")
        #expect(await server.stop() == 0)
    }

    // MARK: Task timings around a streamed body

    @Test func afterRouteStartsBeforeTheFirstChunkAndAfterResponseOnlyOnceTheLastByteIsOut() async throws {
        let server = try await DemoServer(workers: 1)
        let socket = try StreamSocket(port: server.port, receiveBuffer: 64 << 10)
        // 64 MiB, far more than the socket buffers and the write high-water mark hold.
        try await socket.send(
            "POST /tasks/stream?chunks=64&chunk_bytes=1048576 HTTP/1.1\r\nHost: x\r\nX-Request-ID: big-1\r\nConnection: close\r\n\r\n"
        )
        _ = try await socket.receive(until: "\r\n\r\n")
        _ = await server.output.firstLine(containing: "timing=after-route")
        let early = server.output.text
        #expect(!early.contains("timing=after-response"), "most of the stream is unsent")
        #expect(!early.contains("chunk=63"))
        // To the end: the server closes after this answer.
        _ = try await socket.drain()
        let line = await server.output.firstLine(containing: "timing=after-response")
        #expect(line?.contains("request-id=big-1") == true)
        #expect(await server.stop() == 0)
        let log = server.output.text
        let route = try #require(log.range(of: "timing=after-route"))
        let firstChunk = try #require(log.range(of: "chunk=0"))
        let lastChunk = try #require(log.range(of: "chunk=63"))
        let response = try #require(log.range(of: "timing=after-response"))
        #expect(route.lowerBound < firstChunk.lowerBound)
        #expect(lastChunk.lowerBound < response.lowerBound)
        #expect(log.components(separatedBy: "timing=after-response").count == 2, "exactly once")
    }

    @Test func aClientGoneMidStreamStillGetsItsAfterResponseTaskOnce() async throws {
        let server = try await DemoServer(workers: 1)
        let socket = try StreamSocket(port: server.port, receiveBuffer: 64 << 10)
        try await socket.send(
            "POST /tasks/stream?chunks=256&chunk_bytes=1048576 HTTP/1.1\r\nHost: x\r\nX-Request-ID: gone-1\r\n\r\n")
        _ = try await socket.receive(until: "\r\n\r\n")
        socket.abort()
        let line = await server.output.firstLine(containing: "timing=after-response")
        #expect(line?.contains("request-id=gone-1") == true)
        #expect(await server.stop() == 0)
        let log = server.output.text
        #expect(!log.contains("chunk=255"))
        #expect(log.components(separatedBy: "timing=after-response").count == 2, "exactly once")
    }

    @Test func aProducerThatThrowsClosesTheConnectionAndDiscardsAfterResponseTasks() async throws {
        let server = try await DemoServer(workers: 1)
        let socket = try StreamSocket(port: server.port)
        try await socket.send(
            "POST /tasks/stream?chunks=8&fail_after=3 HTTP/1.1\r\nHost: x\r\nX-Request-ID: fail-1\r\n\r\n")
        let received = try await socket.drain()
        #expect(received > 0)
        let failure = await server.output.firstLine(containing: "response body failed")
        #expect(failure?.contains("request-id=fail-1") == true)
        #expect(failure?.contains("route=/tasks/stream") == true)
        // Shutdown drains every task: an after-response task that was not discarded would have
        // logged by the time the server exits.
        #expect(await server.stop() == 0)
        let log = server.output.text
        #expect(log.contains("timing=after-route"))
        #expect(!log.contains("timing=after-response"))
    }
}
