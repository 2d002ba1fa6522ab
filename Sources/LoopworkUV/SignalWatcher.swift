import CLibUV

#if canImport(Glibc)
    import Glibc
#endif

/// Watches a POSIX signal on a loop (`uv_signal_t`), such as SIGTERM for graceful shutdown.
/// Loop-bound.
public final class SignalWatcher: LoopHandle {
    private var handler: ((Int32) -> Void)?

    private init(loop: EventLoop, handler: @escaping (Int32) -> Void) {
        self.handler = handler
        super.init(loop: loop, allocating: uv_signal_t.self) { loopwork_signal_as_handle($0) }
    }

    /// Calls `handler` on the loop each time `signal` arrives. Loop thread only.
    ///
    /// Unblocks `signal` on the loop's thread. A process inherits its parent's signal mask, and a
    /// parent that starts it from a thread blocking signals (every thread of Swift's concurrency
    /// pool does) leaves them blocked everywhere: the kernel would keep the signal pending and the
    /// watcher would never hear of it. Unblocked here, the loop's thread can always take it.
    ///
    /// - Throws: ``UVError`` when libuv cannot watch the signal.
    public static func watch(on loop: EventLoop, signal: Int32, _ handler: @escaping (Int32) -> Void) throws(UVError)
        -> SignalWatcher
    {
        try loop.checkAccepting()
        let watcher = SignalWatcher(loop: loop, handler: handler)
        let pointer = watcher.handle(as: uv_signal_t.self)
        let status = uv_signal_init(loop.uvLoop, pointer)
        guard status == 0 else {
            watcher.discardUninitialized()
            throw UVError(code: status, operation: "uv_signal_init")
        }
        watcher.retainForLibuv()
        let started = uv_signal_start(
            pointer,
            { signal, number in
                LoopHandle.owner(of: signal.flatMap(loopwork_signal_as_handle), as: SignalWatcher.self)?.handler?(
                    number)
            }, signal)
        guard started == 0 else {
            watcher.close()
            throw UVError(code: started, operation: "uv_signal_start")
        }
        // After libuv's handler is in place: a signal already pending arrives there, rather
        // than with its default action of ending the process.
        unblockOnThisThread(signal)
        return watcher
    }

    private static func unblockOnThisThread(_ signal: Int32) {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, signal)
        // Fails only for an invalid `how`; a signal number libuv accepted is valid.
        _ = pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    /// Stops watching. Loop thread only.
    public func cancel() {
        loop.assertInLoop()
        handler = nil
        close()
    }
}
