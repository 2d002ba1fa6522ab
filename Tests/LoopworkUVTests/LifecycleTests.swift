import LoopworkTestSupport
import LoopworkUV
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Shutdown, refusal after shutdown, isolation checks and signals.
@Suite("EventLoop lifecycle")
struct LifecycleTests {
    @Test func jobsQueuedBeforeShutdownRunAndLaterOnesAreRefused() async throws {
        let loop = try EventLoop()
        let ran = Locked<[Int]>([])
        let accepted = Locked<[Int]>([])
        let finished = Gate()
        // Blocking waits happen on plain threads, never on the cooperative pool.
        let driver = try ThreadBody {
            let started = BlockingGate()
            let release = BlockingGate()
            // Hold the loop inside a job so the next submissions queue up behind it.
            loop.execute {
                started.open()
                release.wait()
            }
            started.wait()
            let stopper = try? ThreadBody { loop.shutdown() }.start()
            var index = 0
            // Submit until the shutdown request is registered (under the queue lock).
            while loop.execute({ [index] in ran.withLock { $0.append(index) } }) {
                accepted.withLock { $0.append(index) }
                index += 1
                if index > 1_000_000 { break }
                sched_yield()
            }
            release.open()
            if let stopper { pthread_join(stopper, nil) }
            finished.open()
        }.start()
        await finished.wait()
        pthread_join(driver, nil)
        #expect(ran.withLock { $0 } == accepted.withLock { $0 }, "every accepted job ran, in order; none was lost")
        #expect(loop.closeStatus == 0)
        #expect(!loop.execute {})
    }

    @Test func shutdownFromTheLoopThreadCompletesAsynchronouslyAndRefusesNewHandlesWhileClosing() async throws {
        let loop = try EventLoop()
        let keep = Locked<[LoopBoundBox<TCPConnection>]>([])
        let refused: (timer: UVError?, work: UVError?, execute: Bool, jobStillRan: Bool) = await withCheckedContinuation
        { continuation in
            loop.execute {
                do {
                    let listener = try TCPListener.listen(on: loop, host: "127.0.0.1", port: 0) { accepted in
                        keep.withLock { $0.append(LoopBoundBox(accepted)) }
                        // Called while the stop closes every handle: nothing new may open now.
                        accepted.startReading(
                            onBytes: { _ in },
                            onEnd: { _ in
                                var timerError: UVError?
                                var workError: UVError?
                                do throws(UVError) { _ = try loop.scheduleTimer(after: .seconds(3600)) {} } catch {
                                    timerError = error
                                }
                                do throws(UVError) { _ = try loop.queueWork({ 1 }) { _ in } } catch {
                                    workError = error
                                }
                                continuation.resume(returning: (timerError, workError, loop.execute {}, true))
                            })
                        loop.shutdown()  // on the loop: only starts the shutdown, returns at once
                        // Until the stop starts closing handles the loop works normally; it closes this timer too.
                        _ = try? loop.scheduleTimer(after: .seconds(3600)) {}
                    }
                    TCPConnection.connect(on: loop, host: "127.0.0.1", port: listener.localPort) { _ in }
                } catch {
                    continuation.resume(returning: (nil, nil, true, false))
                }
            }
        }
        #expect(refused.jobStillRan)
        #expect(refused.timer == .loopClosed)
        #expect(refused.work == .loopClosed)
        #expect(refused.execute == false)
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func concurrentShutdownsFromSeveralThreadsAllReturnAfterTheLoopClosed() async throws {
        let loop = try EventLoop()
        let statuses = Locked<[Int32?]>([])
        var threads: [pthread_t] = []
        for _ in 0..<4 {
            threads.append(
                try ThreadBody {
                    loop.shutdown()
                    statuses.withLock { $0.append(loop.closeStatus) }
                }.start())
        }
        for thread in threads { pthread_join(thread, nil) }
        await loop.shutdownGracefully()
        #expect(statuses.withLock { $0 } == [0, 0, 0, 0])
        #expect(!loop.inEventLoop)
    }

    @Test func shutdownWithdrawsPoolWorkThatHasNotStarted() async throws {
        let loop = try EventLoop()
        let release = BlockingGate()
        let withdrawn = Gate()
        let outcome = Locked<String?>(nil)
        loop.execute {
            do {
                let poolSize = Int(getenv("UV_THREADPOOL_SIZE").flatMap { Int32(atoi($0)) } ?? 4)
                for _ in 0..<max(poolSize, 4) {
                    _ = try loop.queueWork({ release.wait() }) { _ in }
                }
                _ = try loop.queueWork({ "ran" }) { result in
                    switch result {
                    case .success(let value): outcome.withLock { $0 = value }
                    case .failure(let error):
                        outcome.withLock { $0 = (error as? UVError)?.isCancelled == true ? "cancelled" : "\(error)" }
                    }
                    withdrawn.open()
                }
            } catch {
                outcome.withLock { $0 = "queueWork failed: \(error)" }
                withdrawn.open()
            }
        }
        let stopping = Task { await loop.shutdownGracefully() }
        await withdrawn.wait()  // the queued work is cancelled while the blocked ones still run
        release.open()
        await stopping.value
        #expect(outcome.withLock { $0 } == "cancelled")
        #expect(loop.closeStatus == 0)
    }

    @Test func workErrorsReachTheCompletion() async throws {
        struct Boom: Error, Equatable {}
        let loop = try EventLoop()
        let failed: Bool = await withCheckedContinuation { continuation in
            loop.execute {
                do {
                    _ = try loop.queueWork({ () throws -> Int in throw Boom() }) { result in
                        if case .failure(let error) = result, error is Boom {
                            continuation.resume(returning: true)
                        } else {
                            continuation.resume(returning: false)
                        }
                    }
                } catch {
                    continuation.resume(returning: false)
                }
            }
        }
        #expect(failed)
        await loop.shutdownGracefully()
    }

    @Test func actorPinnedToTheLoopCanAssumeIsolationInLibuvCallbacks() async throws {
        let loop = try EventLoop()
        let counter = LoopCounter(loop: loop)
        let done = Gate()
        loop.execute {
            _ = try? loop.scheduleTimer(after: .milliseconds(1)) {
                counter.assumeIsolated { $0.increment() }
                done.open()
            }
        }
        await done.wait()
        #expect(await counter.value == 1)
        await counter.increment()
        #expect(await counter.value == 2)
        await loop.shutdownGracefully()
    }

    @Test func signalWatcherSeesTheSignal() async throws {
        let loop = try EventLoop()
        let watching = Gate()
        let seen = Gate()
        let number = Locked<Int32>(0)
        let keep = Locked<LoopBoundBox<SignalWatcher>?>(nil)
        loop.execute {
            do {
                let watcher = try SignalWatcher.watch(on: loop, signal: SIGUSR2) { signal in
                    number.withLock { $0 = signal }
                    seen.open()
                }
                keep.withLock { $0 = LoopBoundBox(watcher) }
            } catch {
                Issue.record("watch failed: \(error)")
                seen.open()
            }
            watching.open()
        }
        await watching.wait()
        kill(getpid(), SIGUSR2)
        await seen.wait()
        #expect(number.withLock { $0 } == SIGUSR2)
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    /// As in a process whose parent blocked the signal: a new thread inherits its creator's mask,
    /// so the loop's thread starts with the signal blocked, and the watcher must unblock it.
    @Test func signalWatcherHearsASignalItsLoopThreadStartedWithBlocked() async throws {
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR1)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        let created = Result { try EventLoop() }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        let loop = try created.get()

        let watching = Gate()
        let seen = Gate()
        let loopThread = Locked<pthread_t?>(nil)
        let keep = Locked<LoopBoundBox<SignalWatcher>?>(nil)
        loop.execute {
            do {
                let watcher = try SignalWatcher.watch(on: loop, signal: SIGUSR1) { _ in seen.open() }
                keep.withLock { $0 = LoopBoundBox(watcher) }
                var mask = sigset_t()
                pthread_sigmask(SIG_BLOCK, nil, &mask)
                if sigismember(&mask, SIGUSR1) == 0 { loopThread.withLock { $0 = pthread_self() } }
            } catch {
                Issue.record("watch failed: \(error)")
            }
            watching.open()
        }
        await watching.wait()
        // Sent to the loop's thread only once it no longer blocks the signal: a blocked one
        // would stay pending and the wait below would never end.
        let thread = try #require(loopThread.withLock { $0 }, "SIGUSR1 still blocked on the loop's thread")
        pthread_kill(thread, SIGUSR1)
        await seen.wait()
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func uvErrorFieldsAndLoopClosed() {
        let error = UVError(code: -104, operation: "read")
        #expect(error.name == "ECONNRESET")
        #expect(error.message == "connection reset by peer")
        #expect(!error.isCancelled)
        #expect(UVError.loopClosed.isCancelled)
        #expect(UVError.loopClosed.name == "ELOOPCLOSED")
        // Unknown codes get a name too (and, with the _r variants, no leaked string).
        #expect(!UVError(code: -987_654, operation: "x").name.isEmpty)
    }
}

/// An actor whose jobs run on the loop.
actor LoopCounter {
    let loop: EventLoop
    private(set) var value = 0
    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    init(loop: EventLoop) { self.loop = loop }

    func increment() {
        #expect(loop.inEventLoop)
        value += 1
    }
}

/// Carries a loop-bound object across the Sendable boundary of a test; used only on its loop.
final class LoopBoundBox<Value>: @unchecked Sendable {
    // @unchecked: created and dropped on the loop thread; other threads only hold the reference.
    let value: Value
    init(_ value: Value) { self.value = value }
}
