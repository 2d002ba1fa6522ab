import LoopworkTestSupport
import LoopworkUV
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("LoopPoll")
struct LoopPollTests {
    @Test("reports writable, then readable once the other end wrote, and closes with the loop clean")
    func readinessOfASocketPair() async throws {
        var fds: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        let (mine, peer) = (fds[0], fds[1])
        defer {
            close(mine)
            close(peer)
        }
        let loop = try EventLoop(name: "poll-test")
        let seen = Locked<[String]>([])
        let readable = Gate()
        let closed = Gate()
        loop.execute {
            do {
                var poll: LoopPoll?
                poll = try LoopPoll.watching(socket: mine, on: loop) { result in
                    guard case .success(let events) = result else {
                        seen.withLock { $0.append("error") }
                        return
                    }
                    if events.contains(.writable) {
                        seen.withLock { $0.append("writable") }
                        // Writable is reported at once and again each round: switch to reading.
                        try? poll?.watch(.readable)
                        _ = "x".withCString { write(peer, $0, 1) }
                    } else if events.contains(.readable) {
                        seen.withLock { $0.append("readable") }
                        poll?.close { closed.open() }
                        poll = nil
                        readable.open()
                    }
                }
                try poll?.watch(.writable)
            } catch {
                seen.withLock { $0.append("failed: \(error)") }
                readable.open()
                closed.open()
            }
        }
        await readable.wait()
        await closed.wait()
        #expect(seen.withLock { $0 } == ["writable", "readable"])
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test("a descriptor that is not a socket is refused with libuv's error")
    func notASocket() async throws {
        let loop = try EventLoop(name: "poll-test")
        let outcome = Locked<String?>(nil)
        let done = Gate()
        loop.execute {
            do {
                _ = try LoopPoll.watching(socket: -1, on: loop) { _ in }
                outcome.withLock { $0 = "accepted" }
            } catch {
                outcome.withLock { $0 = (error as? UVError)?.operation }
            }
            done.open()
        }
        await done.wait()
        #expect(outcome.withLock { $0 } == "uv_poll_init_socket")
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }
}
