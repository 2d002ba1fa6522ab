import LoopworkUV

/// The few socket calls an ``HTTPConnection`` makes, so the protocol logic can be driven without
/// a socket in tests. ``TCPConnection`` is the real one. Every call happens on the loop thread.
protocol ConnectionTransport: AnyObject {
    /// Starts delivering bytes; `onEnd` is called once, with `nil` at the peer's EOF.
    func startReading(onBytes: @escaping (UnsafeRawBufferPointer) -> Void, onEnd: @escaping (UVError?) -> Void)
    /// Pauses reading (backpressure).
    func stopReading()
    /// Resumes reading after ``stopReading()``.
    func resumeReading()
    /// Sends `bytes` after earlier writes; `completion` runs once the kernel has them (perhaps
    /// before `write` returns) or with the error.
    func write(_ bytes: [UInt8], completion: ((UVError?) -> Void)?)
    /// Sends `prefix`, `bytes` and `suffix` as one write without joining them first.
    func write(_ bytes: [UInt8], prefix: [UInt8], suffix: [UInt8], completion: ((UVError?) -> Void)?)
    /// Bytes handed to `write` and not yet taken by the kernel.
    var pendingWriteBytes: Int { get }
    /// Disables Nagle's algorithm.
    func setNoDelay(_ enabled: Bool)
    /// Closes the socket; `onClosed` runs once it is closed. Pending writes fail.
    func close(_ onClosed: (() -> Void)?)
}

extension TCPConnection: ConnectionTransport {}
