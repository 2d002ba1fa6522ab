import LoopworkUV

/// Where handlers run: in a task that stays with its connection between requests.
///
/// A task per request costs its creation, its executor preference, a closure context and the
/// slabs its async frames take, all freed when the request is answered and taken again for the
/// next one. The task that answered a request instead parks on its connection once the answer is
/// in the response queue, and the connection hands it the next request: on a keep-alive
/// connection, request after request runs in the same task, in frames already allocated.
/// Requests that arrive while the parked task is busy (pipelined requests whose handlers
/// suspend) get a task of their own, so handlers still run concurrently; a task that finishes
/// while another is parked ends. A worker parks at most `WorkerContext.maxParkedHandlerTasks`:
/// a parked task keeps its slabs, and idle connections must not each hold them.
extension HTTPConnection {
    /// A request on its way to a handler, with what its answer needs.
    struct Dispatch: Sendable {
        let request: Request
        let exchange: Exchange
    }

    /// Runs `dispatch`'s handler: in the parked task when there is one, else in a new task. Either
    /// way, inside a read callback the handler starts at once (see `EventLoop.startingTasksInline`).
    func run(_ dispatch: Dispatch) {
        if let parked = parkedHandlerTask.take() {
            worker.releaseParking()
            parked.resume(returning: dispatch)
            return
        }
        let responder = worker.responder
        let loop = worker.loop
        let connection = LoopBound(self, on: loop)
        // Handed over through a box the task empties: the task's closure lives as long as the
        // task, and would otherwise keep its first request alive while the task waits for others.
        let handoff = Locked<Dispatch?>(dispatch)
        Task(executorPreference: loop.taskExecutor) {
            guard let first = handoff.withLock({ $0.take() }) else { return }
            await HTTPConnection.serve(consume first, responder: responder, connection: connection, loop: loop)
        }
    }

    /// The handler task's body: answers `next`, then each request the connection hands it.
    /// Nothing of an answered request stays referenced while the task is parked.
    private static func serve(
        _ next: consuming Dispatch, responder: AppResponder, connection: LoopBound<HTTPConnection>, loop: EventLoop
    ) async {
        while true {
            guard await answer(consume next, responder: responder, connection: connection, loop: loop),
                let following = await park(on: connection)
            else { return }
            next = following
        }
    }

    /// Runs the handler and hands its response to the connection; returns whether the task may
    /// park for another request.
    private static func answer(
        _ dispatch: consuming Dispatch, responder: AppResponder, connection: LoopBound<HTTPConnection>, loop: EventLoop
    ) async -> Bool {
        let response = await responder.respond(to: dispatch.request)
        let exchange = dispatch.exchange
        guard loop.inEventLoop else {
            // Only once the loop has stopped does a task preferring it run elsewhere.
            if !loop.execute({ connection.withValueCheckedInDebug { $0.complete(response, for: exchange) } }) {
                exchange.context.responseFinished(delivered: false)
            }
            return false
        }
        return connection.withValueCheckedInDebug { connection in
            connection.complete(response, for: exchange)
            // A cancelled task would carry its cancellation into the next request's handler; a
            // closed or closing connection takes no further request; one parked task is enough.
            return !Task.isCancelled && !connection.isClosed && connection.acceptingRequests
                && connection.parkedHandlerTask == nil
                && connection.worker.reserveParking()
        }
    }

    /// Waits on the connection for its next request; `nil` when it closes first.
    private static func park(on connection: LoopBound<HTTPConnection>) async -> Dispatch? {
        await withUnsafeContinuation { continuation in
            connection.withValueCheckedInDebug { $0.parkedHandlerTask = continuation }
        }
    }

    /// Ends the parked task, if any: the connection takes no further request.
    func releaseParkedHandlerTask() {
        guard let parked = parkedHandlerTask.take() else { return }
        worker.releaseParking()
        parked.resume(returning: nil)
    }
}
