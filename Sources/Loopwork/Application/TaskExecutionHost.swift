/// Where a request's background work runs: async work on the request loop's executor, blocking
/// work on libuv's thread pool. The server provides one per worker loop; the scheduler needs
/// nothing else from the I/O layer.
package protocol TaskExecutionHost: Sendable {
    /// The loop's executor; async task bodies run with it as their preference so they never hop.
    var executor: any TaskExecutor { get }

    /// Runs `work` on the blocking pool and calls `completion` once on the loop: with `true`
    /// after `work` ran, `false` when it was withdrawn before starting or the loop was gone.
    ///
    /// - Returns: A ticket that can withdraw the work while it is still queued.
    func runBlocking(
        _ work: @escaping @Sendable () -> Void,
        completion: @escaping @Sendable (_ ran: Bool) -> Void
    ) -> BlockingWorkTicket
}

/// Withdraws queued blocking work that has not started yet.
package final class BlockingWorkTicket: Sendable {
    private let withdrawAction: @Sendable () -> Void

    package init(withdraw: @escaping @Sendable () -> Void) {
        withdrawAction = withdraw
    }

    /// Asks the pool to drop the work if it has not started; the completion then reports `false`.
    package func withdraw() { withdrawAction() }
}
