import LoopworkUV

/// Runs a request's background work on its worker loop: async bodies on the loop's executor,
/// blocking bodies on libuv's thread pool via `uv_queue_work`.
struct LoopExecutionHost: TaskExecutionHost {
    let loop: EventLoop

    var executor: any TaskExecutor { loop.executor }

    func runBlocking(
        _ work: @escaping @Sendable () -> Void,
        completion: @escaping @Sendable (_ ran: Bool) -> Void
    ) -> BlockingWorkTicket {
        let slot = Locked<LoopBound<QueuedWork>?>(nil)
        let withdrawn = Locked(false)
        let loop = loop
        let submit: @Sendable () -> Void = {
            guard !withdrawn.withLock({ $0 }) else {
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
                slot.withLock { $0 = LoopBound(queued, on: loop) }
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
            withdrawn.withLock { $0 = true }
            _ = loop.execute {
                slot.withLock { $0 }?.withValue { _ = $0.cancel() }
            }
        }
    }
}
