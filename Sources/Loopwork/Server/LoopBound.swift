import LoopworkUV

/// Carries a loop-bound (non-`Sendable`) value across isolation boundaries, opened only on its
/// loop's thread.
///
/// libuv objects such as a queued work request may be touched only on their loop's thread; this
/// box lets a `Sendable` closure hold one and open it after hopping onto the loop.
// @unchecked: `value` is reachable only through `withValue`, which traps unless the caller
// is on `loop`'s thread, so the value is never touched by two threads.
struct LoopBound<Value>: @unchecked Sendable {
    private let value: Value
    let loop: EventLoop

    init(_ value: Value, on loop: EventLoop) {
        self.value = value
        self.loop = loop
    }

    func withValue<Result>(_ body: (Value) throws -> Result) rethrows -> Result {
        // A programming error in this module, never reachable from input.
        precondition(loop.inEventLoop, "loop-bound value opened off its loop")
        return try body(value)
    }
}
