/// How a worker reacts when accepting connections fails.
///
/// A failure that concerns one pending connection (a firewall's `EPERM`, a passing `ENOBUFS`)
/// is reported and the listener goes on. libuv retries at once after each failure, so a lasting
/// error (the socket no longer listens, memory is exhausted) arrives as a burst of failures with
/// no success between them: then the listener pauses, closing its socket rather than spinning
/// the loop, and listens again later, each failed retry waiting twice as long up to a limit.
struct AcceptErrorPolicy {
    enum Decision: Equatable {
        /// Log it (only the first of a run, so a burst is one line) and keep listening.
        case report(first: Bool)
        /// Close the listener and listen again after this long.
        case pause(Duration)
    }

    /// Failures in a row, with no connection accepted between them, that count as lasting.
    let burstLimit: Int
    let firstPause: Duration
    let longestPause: Duration
    private var failuresInARow = 0
    private var nextPause: Duration

    init(burstLimit: Int = 64, firstPause: Duration = .seconds(1), longestPause: Duration = .seconds(30)) {
        self.burstLimit = burstLimit
        self.firstPause = firstPause
        self.longestPause = longestPause
        nextPause = firstPause
    }

    mutating func acceptFailed() -> Decision {
        failuresInARow += 1
        guard failuresInARow >= burstLimit else { return .report(first: failuresInARow == 1) }
        failuresInARow = 0
        return .pause(takePause())
    }

    /// A connection was accepted: the error, if any, has passed.
    mutating func accepted() {
        failuresInARow = 0
        nextPause = firstPause
    }

    /// Listening again failed: how long to wait before the next try.
    mutating func relistenFailed() -> Duration { takePause() }

    private mutating func takePause() -> Duration {
        let pause = nextPause
        nextPause = min(nextPause * 2, longestPause)
        return pause
    }
}
