import CLibUV

/// A one-shot or repeating timer on a loop (`uv_timer_t`). Loop-bound.
public final class LoopTimer: LoopHandle {
    private var fire: (() -> Void)?
    private let repeats: Bool

    fileprivate init(loop: EventLoop, repeats: Bool, fire: @escaping () -> Void) {
        self.fire = fire
        self.repeats = repeats
        super.init(loop: loop, allocating: uv_timer_t.self) { loopwork_timer_as_handle($0) }
    }

    fileprivate var timer: UnsafeMutablePointer<uv_timer_t> { handle(as: uv_timer_t.self) }

    /// Stops the timer; its callback never fires after this. Loop thread only.
    public func cancel() {
        loop.assertInLoop()
        fire = nil
        close()
    }

    /// Whether the timer may still fire.
    public var isActive: Bool { fire != nil && !isClosing }

    override func willClose() {
        uv_timer_stop(timer)
        fire = nil
    }

    fileprivate func start(delay: UInt64, repeating: UInt64) throws(UVError) {
        try UVError.check(
            uv_timer_start(
                timer,
                { timer in
                    guard let owner = LoopHandle.owner(of: timer.flatMap(loopwork_timer_as_handle), as: LoopTimer.self)
                    else { return }
                    owner.fired()
                }, delay, repeating), "uv_timer_start")
    }

    private func fired() {
        guard let fire else { return }
        if !repeats {
            self.fire = nil
            close()
        }
        fire()
    }

    static func milliseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 || seconds > 0 else { return 0 }
        // Round up so a timer never fires early; absurdly long delays saturate instead of trapping.
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000)
        let fraction = UInt64(max(0, (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000))
        guard !overflow else { return .max }
        let (total, tooLong) = whole.addingReportingOverflow(fraction)
        return tooLong ? .max : total
    }
}

extension EventLoop {
    /// Calls `fire` on the loop after `delay`, then every `repeating` if given. Loop thread only.
    ///
    /// - Returns: The timer; ``LoopTimer/cancel()`` stops it.
    /// - Throws: ``UVError`` when libuv cannot create or start the timer, ``UVError/loopClosed``
    ///   once the loop is shutting down.
    public func scheduleTimer(
        after delay: Duration, repeating: Duration? = nil,
        _ fire: @escaping () -> Void
    ) throws(UVError) -> LoopTimer {
        try checkAccepting()
        let timer = LoopTimer(loop: self, repeats: repeating != nil, fire: fire)
        let status = uv_timer_init(uvLoop, timer.timer)
        guard status == 0 else {
            timer.discardUninitialized()
            throw UVError(code: status, operation: "uv_timer_init")
        }
        timer.retainForLibuv()
        do {
            try timer.start(
                delay: LoopTimer.milliseconds(delay),
                repeating: repeating.map { max(1, LoopTimer.milliseconds($0)) } ?? 0)
        } catch {
            timer.close()
            throw error
        }
        return timer
    }
}
