import Foundation
import Testing

/// The demo server as users run it: the real binary, driven with curl and raw sockets.
@Suite("Demo server with curl", .serialized)
struct DemoEndpointTests {
    @Test func endpointsAnswerCurl() async throws {
        let server = try await DemoServer()
        let base = "http://127.0.0.1:\(server.port)"

        let plaintext = try await Curl.run(["-i", "\(base)/plaintext"])
        #expect(plaintext.status == 0)
        #expect(plaintext.output.hasPrefix("HTTP/1.1 200"))
        #expect(plaintext.output.lowercased().contains("content-type: text/plain"))
        #expect(plaintext.output.hasSuffix("\r\n\r\nHello, World!"))

        #expect(try await Curl.run(["\(base)/json"]).output == #"{"message":"Hello, World!"}"#)
        #expect(try await Curl.run(["\(base)/users/42?verbose=true"]).output == #"{"id":42,"verbose":true}"#)

        let headers = try await Curl.run(["-H", "X-Custom: Value", "\(base)/headers"])
        let object = try JSONSerialization.jsonObject(with: Data(headers.output.utf8)) as? [String: String]
        #expect(object?["x-custom"] == "Value")
        #expect(object?["host"] == "127.0.0.1:\(server.port)")

        let notFound = try await Curl.run(["-o", "/dev/null", "-w", "%{http_code}", "\(base)/missing"])
        #expect(notFound.output == "404")
        let notAllowed = try await Curl.run(["-i", "-X", "DELETE", "\(base)/plaintext"])
        #expect(notAllowed.output.hasPrefix("HTTP/1.1 405"))
        #expect(notAllowed.output.contains("Allow: GET, HEAD"))

        #expect(await server.stop() == 0)
    }

    @Test func echoWithContentLengthAndChunked() async throws {
        let server = try await DemoServer()
        let url = "http://127.0.0.1:\(server.port)/echo"
        let payload = String(repeating: "loopwork ", count: 5_000)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("echo-\(UUID().uuidString)")
        try Data(payload.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let sized = try await Curl.run(["-i", "--data-binary", "@\(file.path)", url])
        #expect(sized.output.contains("X-Echo-Length: \(payload.utf8.count)"))
        #expect(sized.output.hasSuffix(payload))

        let chunked = try await Curl.run([
            "-i", "-H", "Transfer-Encoding: chunked", "--data-binary", "@\(file.path)", url,
        ])
        #expect(chunked.output.contains("X-Echo-Length: \(payload.utf8.count)"))
        #expect(chunked.output.hasSuffix(payload))
        #expect(await server.stop() == 0)
    }

    @Test func curlReusesTheKeepAliveConnection() async throws {
        let server = try await DemoServer()
        let url = "http://127.0.0.1:\(server.port)/plaintext"
        let result = try await Curl.run(["-w", " %{num_connects}\n", url, url, url])
        let connects = result.output.split(separator: "\n").map { $0.split(separator: " ").last ?? "" }
        #expect(connects == ["1", "0", "0"], "one connection for three requests: \(result.output)")
        #expect(await server.stop() == 0)
    }

    @Test func malformedRequestGets400AndServerKeepsServing() async throws {
        let server = try await DemoServer()
        let answer = try await RawClient.exchange(
            port: server.port, "GET /plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 400"))
        #expect(answer.contains("detail"))
        let smuggle = try await RawClient.exchange(
            port: server.port,
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        #expect(smuggle.hasPrefix("HTTP/1.1 400"))
        #expect(try await Curl.run(["http://127.0.0.1:\(server.port)/plaintext"]).output == "Hello, World!")
        #expect(await server.stop() == 0)
    }

    @Test func hundredPipelinedRequestsInOrder() async throws {
        let server = try await DemoServer()
        var batch = ""
        for index in 0..<100 { batch += "GET /users/\(index) HTTP/1.1\r\nHost: x\r\n\r\n" }
        batch += "GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        let answer = try await RawClient.exchange(port: server.port, batch)
        var ids: [Int] = []
        var rest = Substring(answer)
        while let range = rest.range(of: #"{"id":"#) {
            let digits = rest[range.upperBound...].prefix { $0.isNumber }
            ids.append(Int(digits) ?? -1)
            rest = rest[range.upperBound...]
        }
        #expect(ids == Array(0..<100))
        #expect(answer.hasSuffix("Hello, World!"))
        #expect(await server.stop() == 0)
    }

    @Test func tasksRunAfterResponseAndStatsCountThem() async throws {
        let server = try await DemoServer()
        let base = "http://127.0.0.1:\(server.port)"
        for _ in 0..<5 {
            let accepted = try await Curl.run([
                "-i", "-X", "POST", "-H", "Content-Type: application/json", "-d", "{}", "\(base)/tasks",
            ])
            #expect(accepted.output.hasPrefix("HTTP/1.1 202"))
            #expect(accepted.output.hasSuffix(#"{"status":"ok"}"#))
        }
        // Each task starts once its response is written; /stats on the same server then sees
        // all five, because curl only returns after the last byte arrived.
        var completed = 0
        var totals: [String: Int] = [:]
        for _ in 0..<100 where completed < 5 || totals["completed"] != 5 {
            let stats = try await Curl.run(["\(base)/stats"])
            let object = try JSONSerialization.jsonObject(with: Data(stats.output.utf8)) as? [String: Any]
            completed = object?["completed"] as? Int ?? 0
            totals = object?["tasks"] as? [String: Int] ?? [:]
            if completed < 5 { await Task.yield() }
        }
        #expect(completed == 5)
        // The library's lifetime totals agree with the demo's own count.
        #expect(
            totals == ["scheduled": 5, "completed": 5, "failed": 0, "cancelled": 0, "discarded": 0, "abandoned": 0])
        let timings = try await Curl.run(["-X", "POST", "\(base)/tasks/timings"])
        #expect(timings.output.contains("scheduled"))
        #expect(await server.stop() == 0)
        let log = server.output.text
        let order = ["timing=immediate", "timing=after-route", "timing=after-response"].map {
            log.range(of: $0)?.lowerBound
        }
        let positions = order.compactMap { $0 }
        #expect(positions.count == 3, "all three timings logged:\n\(log)")
        #expect(positions == positions.sorted(), "immediate, then after-route, then after-response")
    }

    @Test func healthCheckModeProbesTheServer() async throws {
        let server = try await DemoServer()
        let probe = Process()
        probe.executableURL = DemoServer.binary
        probe.arguments = ["--health-check", "http://127.0.0.1:\(server.port)/healthz"]
        let exited = ExitSignal()
        probe.terminationHandler = { exited.fire($0.terminationStatus) }
        try probe.run()
        #expect(await exited.wait() == 0)
        #expect(await server.stop() == 0)
    }
}

/// Sends raw bytes and reads until the server closes the connection.
enum RawClient {
    /// Sends `request` on a new connection and returns everything received until the server closes.
    static func exchange(port: Int, _ request: String) async throws -> String {
        let socket = try StreamSocket(port: port)
        try await socket.send(request)
        var received: [UInt8] = []
        while true {
            let chunk = try await socket.receive()
            if chunk.isEmpty { break }
            received += chunk
        }
        return String(decoding: received, as: UTF8.self)
    }
}
