/// The delay before the next try after failures in a row: doubling from `base`, capped, with up
/// to half taken off at random so clients that failed together do not retry together. The pool's
/// reconnects and the durable queue's retries share it.
package struct Backoff: Sendable {
    package let base: Duration
    package let cap: Duration

    package init(base: Duration, cap: Duration) {
        self.base = base
        self.cap = cap
    }

    /// The delay after `failures` failures in a row (the first failure waits about `base`).
    package func delay(after failures: Int) -> Duration {
        let doubled = base * (1 << min(max(failures - 1, 0), 20))
        return min(doubled, cap) * Double.random(in: 0.5...1.0)
    }
}
