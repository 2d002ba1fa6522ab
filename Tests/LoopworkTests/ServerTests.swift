import Foundation
import HTTPTypes
import Loopwork
import LoopworkHTTP
import LoopworkTestSupport
import LoopworkTesting
import Testing

@Suite("Server over real sockets")
struct ServerTests {
    private func makeApp(_ configuration: AppConfiguration = AppConfiguration(workers: 1), gates: Gates = Gates())
        -> App
    {
        let app = App(configuration: configuration)
        app.get("/plaintext") { "Hello, World!" }
        app.post("/echo") { (request: Request) in Response(bytes: try await request.body.collect()) }
        app.get("/n/{n}") { (path: PathParameters) in path["n"] ?? "" }
        app.get("/wait/{name}") { (path: PathParameters) in
            let name = path["name"] ?? ""
            gates["\(name)-arrived"].open()
            await gates[name].wait()
            return name
        }
        app.get("/boom") { () throws -> String in throw CancellationError() }
        return app
    }

    private func read(_ socket: TestSocket, responses count: Int, isHead: Bool = false) async throws -> [TestResponse] {
        var reader = ResponseReader(isHeadRequest: isHead)
        var responses: [TestResponse] = []
        while responses.count < count {
            if let (response, _) = try reader.next() {
                responses.append(response)
                continue
            }
            let chunk = try await socket.receive()
            if chunk.isEmpty { break }
            reader.append(chunk)
        }
        return responses
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        try await makeApp().test(.live) { client async throws in
            for _ in 0..<3 {
                let response = try await client.execute(.get, "/plaintext")
                #expect(response.text == "Hello, World!")
                #expect(response.headerFields[.contentLength] == "13")
                #expect(response.headerFields[.date] != nil)
            }
        }
    }

    @Test func hundredPipelinedRequestsComeBackInOrder() async throws {
        let app = makeApp()
        let running = try await app.start(host: "127.0.0.1", port: 0)
        let socket = try TestSocket(port: running.port)
        var batch = ""
        for index in 0..<100 { batch += "GET /n/\(index) HTTP/1.1\r\nHost: x\r\n\r\n" }
        try await socket.send(batch)
        let responses = try await read(socket, responses: 100)
        #expect(responses.map(\.text) == (0..<100).map(String.init))
        await running.shutdown()
    }

    @Test func laterHandlerFinishingFirstStillAnswersInOrder() async throws {
        let gates = Gates()
        let running = try await makeApp(gates: gates).start(host: "127.0.0.1", port: 0)
        let socket = try TestSocket(port: running.port)
        try await socket.send("GET /wait/first HTTP/1.1\r\nHost: x\r\n\r\nGET /wait/second HTTP/1.1\r\nHost: x\r\n\r\n")
        await gates["first-arrived"].wait()
        await gates["second-arrived"].wait()
        gates["second"].open()
        gates["first"].open()
        let responses = try await read(socket, responses: 2)
        #expect(responses.map(\.text) == ["first", "second"])
        await running.shutdown()
    }

    /// Handlers start inline while the read is parsed: one that answers at once must still wait
    /// behind an earlier one that suspended, and the read's later requests must be served.
    @Test func inlineAnswerWaitsBehindAnEarlierSuspendedHandler() async throws {
        let gates = Gates()
        let running = try await makeApp(gates: gates).start(host: "127.0.0.1", port: 0)
        let socket = try TestSocket(port: running.port)
        try await socket.send(
            "GET /wait/first HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /n/3 HTTP/1.1\r\nHost: x\r\n\r\n")
        await gates["first-arrived"].wait()
        gates["first"].open()
        let responses = try await read(socket, responses: 3)
        #expect(responses.map(\.text) == ["first", "Hello, World!", "3"])
        await running.shutdown()
    }

    @Test func malformedRequestGets400AndServerKeepsServing() async throws {
        let app = makeApp()
        let running = try await app.start(host: "127.0.0.1", port: 0)
        let bad = try TestSocket(port: running.port)
        try await bad.send("GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n")
        let answer = String(decoding: try await bad.receiveUntilClosed(), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 400"))
        #expect(answer.contains("Connection: close"))
        #expect(answer.contains("\"detail\""))
        let good = try TestSocket(port: running.port)
        try await good.send("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await read(good, responses: 1).first?.text == "Hello, World!")
        await running.shutdown()
    }

    @Test func handlerErrorIs500AndConnectionStaysUsable() async throws {
        try await makeApp().test(.live) { client async throws in
            #expect(try await client.execute(.get, "/boom").status == .internalServerError)
            #expect(try await client.execute(.get, "/plaintext").status == .ok)
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        let running = try await makeApp().start(host: "127.0.0.1", port: 0)
        let socket = try TestSocket(port: running.port)
        try await socket.send(
            "GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
        let all = String(decoding: try await socket.receiveUntilClosed(), as: UTF8.self)
        #expect(all.components(separatedBy: "HTTP/1.1 200").count == 2, "only the first request is answered")
        #expect(all.contains("Connection: close"))
        await running.shutdown()
    }

    @Test func expectContinueGetsInterimResponse() async throws {
        let running = try await makeApp().start(host: "127.0.0.1", port: 0)
        let socket = try TestSocket(port: running.port)
        try await socket.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = String(decoding: try await socket.receive(), as: UTF8.self)
        #expect(interim.hasPrefix("HTTP/1.1 100 Continue\r\n"))
        try await socket.send("hello")
        #expect(try await read(socket, responses: 1).first?.text == "hello")
        await running.shutdown()
    }

    @Test func chunkedUploadIsReassembled() async throws {
        let running = try await makeApp().start(host: "127.0.0.1", port: 0)
        let socket = try TestSocket(port: running.port)
        try await socket.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        )
        #expect(try await read(socket, responses: 1).first?.text == "hello world")
        await running.shutdown()
    }

    @Test func headOverTheWireHasLengthButNoBody() async throws {
        let running = try await makeApp().start(host: "127.0.0.1", port: 0)
        let socket = try TestSocket(port: running.port)
        try await socket.send("HEAD /plaintext HTTP/1.1\r\nHost: x\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
        var reader = ResponseReader(isHeadRequest: true)
        var bytes: [UInt8] = []
        while !String(decoding: bytes, as: UTF8.self).contains("Hello, World!") {
            let chunk = try await socket.receive()
            if chunk.isEmpty { break }
            bytes += chunk
        }
        reader.append(bytes)
        let head = try #require(try reader.next()).0
        #expect(head.headerFields[.contentLength] == "13")
        #expect(
            String(decoding: bytes, as: UTF8.self).components(separatedBy: "Hello, World!").count == 2,
            "the body appears once, for the GET")
        await running.shutdown()
    }

    @Test func slowHeaderIsCutOffWith408() async throws {
        let running = try await makeApp(AppConfiguration(workers: 1, headerReadTimeout: .milliseconds(300))).start(
            host: "127.0.0.1", port: 0)
        let socket = try TestSocket(port: running.port)
        try await socket.send("GET /plaintext HTTP/1.1\r\nHost:")
        let answer = String(decoding: try await socket.receiveUntilClosed(), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 408"))
        await running.shutdown()
    }

    @Test func handlerPastTheRequestTimeoutIsAnswered503() async throws {
        let gates = Gates()
        let configuration = AppConfiguration(workers: 1, requestTimeout: .milliseconds(300))
        let running = try await makeApp(configuration, gates: gates).start(host: "127.0.0.1", port: 0)
        let socket = try TestSocket(port: running.port)
        try await socket.send("GET /wait/forever HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = String(decoding: try await socket.receiveUntilClosed(), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 503"))
        #expect(answer.contains("request timed out"))
        gates["forever"].open()  // the handler still finishes; its late answer goes nowhere
        await running.shutdown()
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        let running = try await makeApp(AppConfiguration(workers: 1, idleTimeout: .milliseconds(300))).start(
            host: "127.0.0.1", port: 0)
        let socket = try TestSocket(port: running.port)
        try await socket.send("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
        let all = String(decoding: try await socket.receiveUntilClosed(), as: UTF8.self)
        #expect(all.hasPrefix("HTTP/1.1 200"), "answered, then closed once idle")
        await running.shutdown()
    }

    @Test func severalWorkersShareThePort() async throws {
        let app = makeApp(AppConfiguration(workers: 3))
        try await app.test(.live) { client async throws in
            for _ in 0..<10 { #expect(try await client.execute(.get, "/plaintext").status == .ok) }
        }
        let running = try await app.start(host: "127.0.0.1", port: 0)
        let sockets = try (0..<8).map { _ in try TestSocket(port: running.port) }
        for socket in sockets { try await socket.send("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n") }
        for socket in sockets { #expect(try await read(socket, responses: 1).first?.status == .ok) }
        await running.shutdown()
    }

    @Test func shutdownLetsInFlightRequestFinish() async throws {
        let gates = Gates()
        let running = try await makeApp(gates: gates).start(host: "127.0.0.1", port: 0)
        let socket = try TestSocket(port: running.port)
        try await socket.send("GET /wait/slow HTTP/1.1\r\nHost: x\r\n\r\n")
        await gates["slow-arrived"].wait()
        async let stopped: Void = running.shutdown()
        gates["slow"].open()
        let answer = String(decoding: try await socket.receiveUntilClosed(), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 200"))
        #expect(answer.hasSuffix("slow"))
        await stopped
    }

    @Test func tooLargeBodyIs413() async throws {
        let configuration = AppConfiguration(workers: 1, limits: HTTPParserLimits(maxBodySize: 10))
        let running = try await makeApp(configuration).start(host: "127.0.0.1", port: 0)
        // A body that arrived whole was read to its end: the connection can go on.
        let socket = try TestSocket(port: running.port)
        try await socket.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world")
        try await socket.send("GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let answer = String(decoding: try await socket.receiveUntilClosed(), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 413"))
        #expect(answer.hasSuffix("Hello, World!"))
        // A declared length past the limit is refused before the body comes, and the connection
        // closes rather than reading it.
        let large = try TestSocket(port: running.port)
        try await large.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\nhello")
        let refused = String(decoding: try await large.receiveUntilClosed(), as: UTF8.self)
        #expect(refused.hasPrefix("HTTP/1.1 413"))
        #expect(refused.contains("Connection: close"))
        await running.shutdown()
    }
}
