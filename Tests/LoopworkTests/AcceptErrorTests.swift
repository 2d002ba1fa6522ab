import HTTPTypes
import LoopworkTesting
import LoopworkUV
import Testing

@testable import Loopwork

#if os(Linux)
    import Glibc
#endif

@Suite("Accept errors")
struct AcceptErrorTests {
    @Test func singleFailuresAreReportedOnceAndTheListenerGoesOn() {
        var policy = AcceptErrorPolicy(burstLimit: 4)
        #expect(policy.acceptFailed() == .report(first: true))
        #expect(policy.acceptFailed() == .report(first: false))
        policy.accepted()
        #expect(policy.acceptFailed() == .report(first: true))
    }

    @Test func aBurstPausesTheListenerWithGrowingPausesUntilAnAcceptSucceeds() {
        var policy = AcceptErrorPolicy(burstLimit: 3, firstPause: .seconds(1), longestPause: .seconds(3))
        #expect(policy.acceptFailed() == .report(first: true))
        #expect(policy.acceptFailed() == .report(first: false))
        #expect(policy.acceptFailed() == .pause(.seconds(1)))
        #expect(policy.relistenFailed() == .seconds(2))
        #expect(policy.relistenFailed() == .seconds(3))
        #expect(policy.relistenFailed() == .seconds(3))
        policy.accepted()
        for _ in 0..<2 { _ = policy.acceptFailed() }
        #expect(policy.acceptFailed() == .pause(.seconds(1)))
    }

    #if os(Linux)
        /// `shutdown(SHUT_RD)` on a listening socket makes Linux stop listening on it, so every
        /// later `accept` fails with `EINVAL`: a lasting error. The worker must pause the listener
        /// (not spin the loop), log it, listen again and serve.
        @Test func aListenerWhoseSocketBrokeIsPausedAndListensAgain() async throws {
            let logs = EndToEndLogs()
            let app = App(configuration: AppConfiguration(workers: 1), logger: logs.logger)
            app.get("/plaintext") { "Hello, World!" }
            let running = try await app.start(host: "127.0.0.1", port: 0)
            let descriptor = try #require(await running.listenerDescriptors().first ?? nil)
            #expect(shutdown(descriptor, Int32(SHUT_RD)) == 0)

            await logs.waitFor("listening again")
            #expect(!logs.entries("accepting connections keeps failing; the listener pauses").isEmpty)
            let socket = try TestSocket(port: running.port)
            try await socket.send("GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let reply = String(decoding: try await socket.receiveUntilClosed(), as: UTF8.self)
            #expect(reply.hasPrefix("HTTP/1.1 200 OK"))
            #expect(reply.hasSuffix("Hello, World!"))
            await running.shutdown()
        }
    #endif
}
