import LoopworkTestSupport
import LoopworkUV
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("EventLoop")
struct EventLoopTests {
    @Test func executeFromEightThreadsRunsEveryClosureOnceOnTheLoop() async throws {
        let loop = try EventLoop(name: "execute-test")
        let perThread = 10_000
        let counts = Locked([Int](repeating: 0, count: 8 * perThread))
        let offLoop = Locked(0)
        let done = Gate()
        let remaining = Locked(8 * perThread)
        var threads: [pthread_t] = []
        for thread in 0..<8 {
            let box = ThreadBody {
                for index in 0..<perThread {
                    let slot = thread * perThread + index
                    loop.execute {
                        if !loop.inEventLoop { offLoop.withLock { $0 += 1 } }
                        counts.withLock { $0[slot] += 1 }
                        let left = remaining.withLock { value -> Int in
                            value -= 1
                            return value
                        }
                        if left == 0 { done.open() }
                    }
                }
            }
            threads.append(try box.start())
        }
        await done.wait()
        for thread in threads { pthread_join(thread, nil) }
        #expect(counts.withLock { $0.allSatisfy { $0 == 1 } })
        #expect(offLoop.withLock { $0 } == 0)
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func executeAfterShutdownIsRefused() async throws {
        let loop = try EventLoop()
        await loop.shutdownGracefully()
        #expect(loop.execute {} == false)
        #expect(loop.closeStatus == 0)
    }

    @Test func timersFireInOrderAndCancelledOnesNever() async throws {
        let loop = try EventLoop()
        let fired = Locked<[String]>([])
        let done = Gate()
        loop.execute {
            do {
                _ = try loop.scheduleTimer(after: .milliseconds(30)) { fired.withLock { $0.append("30") } }
                _ = try loop.scheduleTimer(after: .milliseconds(10)) { fired.withLock { $0.append("10") } }
                let cancelled = try loop.scheduleTimer(after: .milliseconds(20)) {
                    fired.withLock { $0.append("cancelled") }
                }
                cancelled.cancel()
                #expect(!cancelled.isActive)
                _ = try loop.scheduleTimer(after: .milliseconds(50)) { done.open() }
            } catch {
                Issue.record("timer failed: \(error)")
                done.open()
            }
        }
        await done.wait()
        #expect(fired.withLock { $0 } == ["10", "30"])
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func repeatingTimerFiresUntilCancelled() async throws {
        let loop = try EventLoop()
        let ticks = Locked(0)
        let done = Gate()
        loop.execute {
            var timer: LoopTimer?
            timer = try? loop.scheduleTimer(after: .milliseconds(1), repeating: .milliseconds(1)) {
                let count = ticks.withLock { value -> Int in
                    value += 1
                    return value
                }
                if count == 3 {
                    timer?.cancel()
                    done.open()
                }
            }
        }
        await done.wait()
        #expect(ticks.withLock { $0 } == 3)
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func queueWorkRunsOffTheLoopAndCompletesOnIt() async throws {
        let loop = try EventLoop()
        let result: (value: Int, workOnLoop: Bool, completionOnLoop: Bool) = await withCheckedContinuation {
            continuation in
            loop.execute {
                do {
                    _ = try loop.queueWork({ (21 * 2, loop.inEventLoop) }) { result in
                        switch result {
                        case .success(let (value, workOnLoop)):
                            continuation.resume(returning: (value, workOnLoop, loop.inEventLoop))
                        case .failure:
                            continuation.resume(returning: (-1, true, false))
                        }
                    }
                } catch {
                    continuation.resume(returning: (-1, true, false))
                }
            }
        }
        #expect(result.value == 42)
        #expect(!result.workOnLoop)
        #expect(result.completionOnLoop)
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func queuedWorkThatHasNotStartedCanBeWithdrawn() async throws {
        let loop = try EventLoop()
        let release = BlockingGate()
        let outcome: String = await withCheckedContinuation { continuation in
            loop.execute {
                do {
                    // Occupy every pool thread (libuv's default is 4; UV_THREADPOOL_SIZE may raise it).
                    let poolSize = Int(getenv("UV_THREADPOOL_SIZE").flatMap { Int32(atoi($0)) } ?? 4)
                    for _ in 0..<max(poolSize, 4) {
                        _ = try loop.queueWork({ release.wait() }) { _ in }
                    }
                    let queued = try loop.queueWork({ 1 }) { result in
                        switch result {
                        case .success: continuation.resume(returning: "ran")
                        case .failure(let error as UVError) where error.isCancelled:
                            continuation.resume(returning: "cancelled")
                        case .failure(let error): continuation.resume(returning: "failed: \(error)")
                        }
                    }
                    #expect(queued.cancel())
                    release.open()
                } catch {
                    continuation.resume(returning: "error: \(error)")
                }
            }
        }
        #expect(outcome == "cancelled")
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func taskPreferringTheLoopRunsOnIt() async throws {
        let loop = try EventLoop()
        let onLoop = await Task(executorPreference: loop.taskExecutor) { loop.inEventLoop }.value
        #expect(onLoop)
        let actor = LoopActor(loop: loop)
        #expect(await actor.isOnLoop())
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func uvErrorNamesTheFailure() {
        let error = UVError(code: -98, operation: "uv_tcp_bind")
        #expect(error.name == "EADDRINUSE")
        #expect(error.description == "uv_tcp_bind failed: EADDRINUSE (address already in use)")
    }
}

actor LoopActor {
    let loop: EventLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    init(loop: EventLoop) { self.loop = loop }

    func isOnLoop() -> Bool { loop.inEventLoop }
}
