import LoopworkUV
import Testing

@testable import Loopwork

/// The request-body buffer on its own: what the connection appends, what a reader takes.
@Suite("InboundBody")
struct InboundBodyTests {
    private final class NoDelegate: InboundBodyDelegate, Sendable {
        func bodyWantsContinue(_ body: InboundBody) {}
        func bodyWasRead(_ body: InboundBody) {}
    }

    /// A body made on `loop`, as the connection makes one: it holds its delegate loop-bound.
    private func makeBody(declaredLength: Int?, on loop: EventLoop, delegate: NoDelegate) async -> InboundBody {
        await withCheckedContinuation { continuation in
            _ = loop.execute {
                continuation.resume(
                    returning: InboundBody(
                        declaredLength: declaredLength, expectsContinue: false,
                        loop: loop, delegate: delegate))
            }
        }
    }

    private func append(_ text: String, to body: InboundBody) {
        _ = Array(text.utf8).withUnsafeBytes { body.append($0) }
    }

    // Found by the stream fuzzer: a body refused at its first read for its declared length kept
    // what had arrived, counted as buffered, while one refused for a chunk past the limit dropped it.
    @Test func aBodyRefusedForItsDeclaredLengthDropsWhatIsBuffered() async throws {
        let loop = try EventLoop(name: "inbound-body-test")
        let delegate = NoDelegate()
        let body = await makeBody(declaredLength: 10, on: loop, delegate: delegate)
        append("01234", to: body)
        #expect(body.bufferedBytes == 5)
        await #expect(throws: HTTPError.self) { try await body.next(limit: 4) }
        #expect(body.wasRefused)
        #expect(body.bufferedBytes == 0)
        // What still arrives is counted and dropped, never buffered.
        append("56789", to: body)
        #expect(body.bufferedBytes == 0)
        await loop.shutdownGracefully()
    }

    // Found by the stream fuzzer: collecting under a large limit reserved the declared length up
    // front, so a client's Content-Length alone made the server allocate that much (and a huge
    // one trapped the process) before a single byte arrived.
    @Test func collectingDoesNotReserveWhatTheClientOnlyDeclared() async throws {
        let loop = try EventLoop(name: "inbound-body-test")
        let delegate = NoDelegate()
        let body = await makeBody(declaredLength: 100_000_000_000_000_000, on: loop, delegate: delegate)
        append("abc", to: body)
        body.fail(.clientDisconnected)
        await #expect(throws: RequestBodyError.clientDisconnected) { try await body.collect(limit: Int.max) }
        await loop.shutdownGracefully()
    }

    @Test func aBodyRefusedForAChunkPastTheLimitDropsWhatIsBuffered() async throws {
        let loop = try EventLoop(name: "inbound-body-test")
        let delegate = NoDelegate()
        let body = await makeBody(declaredLength: nil, on: loop, delegate: delegate)
        append("012", to: body)
        append("345", to: body)
        #expect(try await body.next(limit: 4) == Array("012".utf8))
        await #expect(throws: HTTPError.self) { try await body.next(limit: 4) }
        #expect(body.wasRefused)
        #expect(body.bufferedBytes == 0)
        await loop.shutdownGracefully()
    }
}
