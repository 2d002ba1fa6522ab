import LoopworkTestSupport
import LoopworkUV
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A loop created with `thread: .caller` runs on the thread that calls `run()`.
@Suite("Caller-thread loop")
struct CallerThreadLoopTests {
    /// Keeps loop-bound objects alive and records what the callbacks saw; touched only on the
    /// one thread that runs the loop, and read after `run()` returned on that thread.
    private final class Record: @unchecked Sendable {
        // @unchecked: written and read only on the thread running the loop.
        var listener: TCPListener?
        var connections: [TCPConnection] = []
        var threads: Set<UInt> = []
        var reply = ""
        var timerFired = false

        func note() { threads.insert(UInt(bitPattern: Int(bitPattern: pthread_self()))) }

        /// Both the echo and the timer are done: the loop may stop.
        var isDone: Bool { reply == "ping" && timerFired }
    }

    @Test func runsEveryCallbackOnTheCallerUntilShutDown() async throws {
        let loop = try EventLoop(thread: .caller)
        let record = Record()
        let callerThread = Locked<UInt>(0)
        let finished = Gate()
        let outcome = Locked<(threads: Set<UInt>, reply: String, timerFired: Bool, closeStatus: Int32?)?>(nil)
        // Submitted before `run()`: waits for it.
        loop.execute {
            record.note()
            do {
                _ = try loop.scheduleTimer(after: .milliseconds(1)) {
                    record.note()
                    record.timerFired = true
                    if record.isDone { loop.shutdown() }
                }
                record.listener = try TCPListener.listen(on: loop, host: "127.0.0.1", port: 0) { server in
                    record.note()
                    record.connections.append(server)
                    server.startReading(
                        onBytes: { bytes in server.write(Array(bytes)) }, onEnd: { _ in server.close() })
                }
                let port = record.listener?.localPort ?? 0
                TCPConnection.connect(on: loop, host: "127.0.0.1", port: port) { result in
                    record.note()
                    guard case .success(let client) = result else {
                        loop.shutdown()
                        return
                    }
                    record.connections.append(client)
                    client.startReading(
                        onBytes: { bytes in
                            record.note()
                            record.reply += String(decoding: bytes, as: UTF8.self)
                            if record.isDone { loop.shutdown() }
                        }, onEnd: { _ in })
                    client.write(Array("ping".utf8))
                }
            } catch {
                loop.shutdown()
            }
        }
        let thread = ThreadBody {
            callerThread.withLock { $0 = UInt(bitPattern: Int(bitPattern: pthread_self())) }
            loop.run()
            outcome.withLock { $0 = (record.threads, record.reply, record.timerFired, loop.closeStatus) }
            finished.open()
        }
        let started = try thread.start()
        await finished.wait()
        pthread_join(started, nil)
        let seen = try #require(outcome.withLock { $0 })
        #expect(seen.reply == "ping")
        #expect(seen.timerFired)
        #expect(seen.threads == [callerThread.withLock { $0 }])
        #expect(seen.closeStatus == 0)
        #expect(!loop.execute {})
    }
}
