import LoopworkUV

/// Runs a request's background work on its worker loop: async bodies on the loop's executor,
/// blocking bodies on libuv's thread pool via `uv_queue_work`.
struct LoopExecutionHost: TaskExecutionHost {
    let loop: EventLoop

    var executor: any TaskExecutor { loop.taskExecutor }

    func runBlocking(
        _ work: @escaping @Sendable () -> Void,
        completion: @escaping @Sendable (_ ran: Bool) -> Void
    ) -> BlockingWorkTicket {
        // Whether the ticket withdrew the work, and the queued request once there is one.
        let state = Locked<(withdrawn: Bool, queued: LoopBound<QueuedWork>?)>((false, nil))
        let loop = loop
        let submit: @Sendable () -> Void = {
            guard !state.withLock({ $0.withdrawn }) else {
                completion(false)
                return
            }
            do {
                let queued = try loop.queueWork(work) { result in
                    switch result {
                    case .success: completion(true)
                    case .failure: completion(false)
                    }
                }
                state.withLock { $0.queued = LoopBound(queued, on: loop) }
            } catch {
                completion(false)
            }
        }
        if loop.inEventLoop {
            submit()
        } else if !loop.execute(submit) {
            completion(false)
        }
        return BlockingWorkTicket {
            state.withLock { $0.withdrawn = true }
            _ = loop.execute {
                state.withLock { $0.queued }?.withValue { _ = $0.cancel() }
            }
        }
    }
}
