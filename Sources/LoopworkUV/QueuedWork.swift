import CLibUV

/// Blocking work queued on libuv's thread pool (`uv_queue_work`). Loop-bound.
public final class QueuedWork {
    private let request: UnsafeMutablePointer<uv_work_t>
    private let core: LoopCore
    private var finished = false

    fileprivate init(request: UnsafeMutablePointer<uv_work_t>, core: LoopCore) {
        self.request = request
        self.core = core
    }

    /// Withdraws the work if no pool thread has started it (`uv_cancel`); its completion then
    /// receives a cancelled ``UVError``. Loop thread only.
    ///
    /// - Returns: Whether the work was withdrawn.
    @discardableResult
    public func cancel() -> Bool {
        core.assertInLoop()
        guard !finished else { return false }
        return uv_cancel(loopwork_work_as_req(request)) == 0
    }

    fileprivate func markFinished() { finished = true }
}

/// What travels with a work request: the work, its result (written on a pool thread, read on
/// the loop after libuv's queue handed it back), and the completion.
private final class WorkContext {
    let work: () -> Void
    let complete: (_ cancelled: Bool) -> Void
    let core: LoopCore
    weak var handle: QueuedWork?

    init(core: LoopCore, work: @escaping () -> Void, complete: @escaping (Bool) -> Void) {
        self.core = core
        self.work = work
        self.complete = complete
    }
}

/// Holds a result between the pool thread that produced it and the loop thread that reads it.
// @unchecked: written once on a pool thread inside the work callback and read on the loop
// thread in the after-work callback; libuv's queue mutex orders the two.
private final class ResultSlot<T>: @unchecked Sendable {
    var value: Result<T, any Error>?
}

extension EventLoop {
    /// Runs `work` on libuv's thread pool and calls `completion` on the loop thread exactly once:
    /// with its result, or a cancelled ``UVError`` if ``QueuedWork/cancel()`` withdrew it first.
    /// Loop thread only.
    ///
    /// Work not yet started when the loop shuts down is withdrawn the same way.
    ///
    /// - Throws: ``UVError`` when libuv refuses the work, ``UVError/loopClosed`` once the loop is
    ///   shutting down; `completion` is then never called.
    public func queueWork<T: Sendable>(
        _ work: @escaping @Sendable () throws -> T,
        completion: @escaping (Result<T, any Error>) -> Void
    ) throws(UVError) -> QueuedWork {
        try checkAccepting()
        let slot = ResultSlot<T>()
        let context = WorkContext(
            core: core, work: { slot.value = Result { try work() } },
            complete: { cancelled in
                if cancelled {
                    completion(.failure(UVError(code: UV_ECANCELED.rawValue, operation: "uv_queue_work")))
                } else {
                    completion(slot.value ?? .failure(UVError(code: UV_ECANCELED.rawValue, operation: "uv_queue_work")))
                }
            })
        let request = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(context).toOpaque()
        let handle = QueuedWork(request: request, core: core)
        context.handle = handle
        let status = uv_queue_work(
            uvLoop, request,
            { request in
                guard let data = request?.pointee.data else { return }
                Unmanaged<WorkContext>.fromOpaque(data).takeUnretainedValue().work()
            },
            { request, status in
                guard let request, let data = request.pointee.data else { return }
                let context = Unmanaged<WorkContext>.fromOpaque(data).takeRetainedValue()
                context.core.workFinished(loopwork_work_as_req(request))
                request.deallocate()
                context.handle?.markFinished()
                context.complete(status == UV_ECANCELED.rawValue)
            })
        guard status == 0 else {
            Unmanaged<WorkContext>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            handle.markFinished()
            throw UVError(code: status, operation: "uv_queue_work")
        }
        core.workStarted(loopwork_work_as_req(request))
        return handle
    }
}
