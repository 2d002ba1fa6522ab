import LoopworkTestSupport
import LoopworkUV
import Testing

/// The loop's two executors, the queue the loop feeds itself, and inline task starts.
@Suite("Loop executors")
struct LoopExecutorTests {
    @Test func jobsTheLoopQueuesForItselfRunInOrderAfterTheCurrentOne() async throws {
        let loop = try EventLoop()
        let order = Locked<[Int]>([])
        let done = Gate()
        loop.execute {
            for index in 0..<1_000 {
                let accepted = loop.execute {
                    order.withLock { $0.append(index) }
                    if index == 999 { done.open() }
                }
                #expect(accepted)
            }
            // Queued, not run inline: nothing ran before this job ended.
            #expect(order.withLock { $0.isEmpty })
        }
        await done.wait()
        #expect(order.withLock { $0 } == Array(0..<1_000))
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func aJobThatQueuesItselfForeverDoesNotStarveTimers() async throws {
        let loop = try EventLoop()
        let stop = Locked(false)
        let done = Gate()
        // Each round queues the next: the idle handle keeps the loop polling, and the timer
        // still fires between rounds.
        @Sendable func spin() {
            guard !stop.withLock({ $0 }) else { return }
            loop.execute { spin() }
        }
        loop.execute {
            spin()
            do {
                _ = try loop.scheduleTimer(after: .milliseconds(20)) {
                    stop.withLock { $0 = true }
                    done.open()
                }
            } catch {
                Issue.record("timer: \(error)")
                done.open()
            }
        }
        await done.wait()
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func aTaskPreferringTheLoopRunsNonisolatedCodeThere() async throws {
        let loop = try EventLoop()
        @Sendable func nonisolatedWork() async -> Bool {
            await Task.yield()
            return loop.inEventLoop
        }
        let onLoop = await Task(executorPreference: loop.taskExecutor) {
            let first = loop.inEventLoop
            let afterCall = await nonisolatedWork()
            return first && afterCall && loop.inEventLoop
        }.value
        #expect(onLoop)
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func tasksStartedInlineRunBeforeTheBodyGoesOnAndResumeOnTheLoop() async throws {
        let loop = try EventLoop()
        let events = Locked<[String]>([])
        let resume = Gate()
        let finished = Gate()
        loop.execute {
            loop.startingTasksInline {
                Task(executorPreference: loop.taskExecutor) {
                    events.withLock { $0.append("task started on loop: \(loop.inEventLoop)") }
                    // Started by the inline task: queued, so it cannot overtake its parent.
                    Task(executorPreference: loop.taskExecutor) {
                        events.withLock { $0.append("nested task") }
                    }
                    events.withLock { $0.append("task suspends") }
                    await resume.wait()
                    events.withLock { $0.append("task resumed on loop: \(loop.inEventLoop)") }
                    finished.open()
                }
                events.withLock { $0.append("body goes on") }
            }
            events.withLock { $0.append("body returned") }
            resume.open()
        }
        await finished.wait()
        let seen = events.withLock { $0 }
        #expect(
            Array(seen.prefix(4)) == [
                "task started on loop: true", "task suspends", "body goes on", "body returned",
            ])
        #expect(seen.contains("nested task"))
        #expect(seen.last == "task resumed on loop: true")
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func outsideTheInlineWindowTasksAreQueued() async throws {
        let loop = try EventLoop()
        let events = Locked<[String]>([])
        let done = Gate()
        loop.execute {
            Task(executorPreference: loop.taskExecutor) {
                events.withLock { $0.append("task") }
                done.open()
            }
            events.withLock { $0.append("job goes on") }
        }
        await done.wait()
        #expect(events.withLock { $0 } == ["job goes on", "task"])
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func anActorPinnedToTheLoopIsEnteredFromATaskOnTheLoop() async throws {
        let loop = try EventLoop()
        let actor = LoopActor(loop: loop)
        let result = await Task(executorPreference: loop.taskExecutor) {
            await actor.isOnLoop()
        }.value
        #expect(result)
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }
}
