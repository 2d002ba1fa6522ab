/// Carries a loop-bound (non-`Sendable`) value across isolation boundaries, opened only on its
/// loop's thread.
///
/// libuv objects such as a queued work request may be touched only on their loop's thread; this
/// box lets a `Sendable` closure hold one and open it after hopping onto the loop.
// @unchecked: `value` is reachable only through `withValue`, which traps unless the caller
// is on `loop`'s thread, so the value is never touched by two threads.
public struct LoopBound<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    /// The loop whose thread may open the value.
    public let loop: EventLoop

    /// Boxes `value`, which belongs to `loop`.
    public init(_ value: Value, on loop: EventLoop) {
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
}
