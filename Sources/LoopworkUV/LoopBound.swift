/// Carries a loop-bound (non-`Sendable`) value across isolation boundaries, opened only on its
/// loop's thread.
///
/// libuv objects such as a queued work request may be touched only on their loop's thread; this
/// box lets a `Sendable` closure hold one and open it after hopping onto the loop. Like
/// `NIOLoopBound`, it is made on the loop as well: a value boxed on another thread might still
/// be reachable from there.
// @unchecked: `value` is boxed on `loop`'s thread and reachable only through `withValue`, which
// traps unless the caller is on that thread, so the value is never touched by two threads.
// `withValueCheckedInDebug` drops the check in release builds only where every caller runs on
// the loop by construction (a job the loop itself runs).
public struct LoopBound<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    /// The loop whose thread may open the value.
    public let loop: EventLoop

    /// Boxes `value`, which belongs to `loop`. Traps off the loop's thread: a programming error.
    public init(_ value: Value, on loop: EventLoop) {
        // A programming error of the code that boxed it, never reachable from input.
        precondition(loop.inEventLoop, "loop-bound value boxed off its loop")
        self.value = value
        self.loop = loop
    }

    /// Calls `body` with the value. Traps off the loop's thread: a programming error.
    @inlinable
    public func withValue<Result>(_ body: (Value) throws -> Result) rethrows -> Result {
        // A programming error of the code that opened it, never reachable from input.
        precondition(loop.inEventLoop, "loop-bound value opened off its loop")
        return try body(value)
    }

    /// ``withValue(_:)`` whose thread check runs in debug builds only, for hot paths whose
    /// caller is on the loop by construction, such as a job the loop itself runs; the suite, in
    /// debug, still proves it.
    @inlinable
    public func withValueCheckedInDebug<Result>(_ body: (Value) throws -> Result) rethrows -> Result {
        assert(loop.inEventLoop, "loop-bound value opened off its loop")
        return try body(value)
    }
}
