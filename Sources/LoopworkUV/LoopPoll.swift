import CLibUV

/// Watches a socket that another library owns for readiness (`uv_poll_t`), such as libpq's
/// connection socket. Loop-bound.
///
/// The owner of the socket keeps reading and writing it; this only says when that would not block.
/// Close the watcher before the socket itself is closed: libuv requires it, and a reused
/// descriptor number would otherwise report another file's readiness.
public final class LoopPoll: LoopHandle {
    /// What a watcher waits for, and what it reports.
    public struct Events: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        /// The socket has bytes to read (or reached its end).
        public static let readable = Events(rawValue: Int32(UV_READABLE.rawValue))
        /// The socket accepts bytes to write.
        public static let writable = Events(rawValue: Int32(UV_WRITABLE.rawValue))
    }

    private var ready: ((Result<Events, UVError>) -> Void)?
    /// The descriptor watched: a caller may compare it with its socket's current one.
    public let socket: Int32

    private init(loop: EventLoop, socket: Int32, ready: @escaping (Result<Events, UVError>) -> Void) {
        self.ready = ready
        self.socket = socket
        super.init(loop: loop, allocating: uv_poll_t.self) { loopwork_poll_as_handle($0) }
    }

    private var poll: UnsafeMutablePointer<uv_poll_t> { handle(as: uv_poll_t.self) }

    /// Creates a watcher of `socket`; it reports nothing until ``watch(_:)``. Loop thread only.
    ///
    /// - Parameter ready: Called on the loop with the events that happened, or with the error
    ///   libuv saw on the socket (the watcher then reports nothing more until watched again).
    /// - Throws: ``UVError`` when libuv cannot watch the descriptor.
    public static func watching(
        socket: Int32, on loop: EventLoop,
        _ ready: @escaping (Result<Events, UVError>) -> Void
    ) throws(UVError) -> LoopPoll {
        try loop.checkAccepting()
        let watcher = LoopPoll(loop: loop, socket: socket, ready: ready)
        let status = uv_poll_init_socket(loop.uvLoop, watcher.poll, socket)
        guard status == 0 else {
            watcher.discardUninitialized()
            throw UVError(code: status, operation: "uv_poll_init_socket")
        }
        watcher.retainForLibuv()
        return watcher
    }

    /// Reports the given `events` from now on (replacing what was watched); an empty set pauses.
    /// Loop thread only.
    ///
    /// - Throws: ``UVError`` when libuv cannot start watching.
    public func watch(_ events: Events) throws(UVError) {
        loop.assertInLoop()
        guard !isClosing else { return }
        if events.isEmpty {
            uv_poll_stop(poll)
            return
        }
        try UVError.check(
            uv_poll_start(poll, events.rawValue) { poll, status, events in
                guard let owner = LoopHandle.owner(of: poll.flatMap(loopwork_poll_as_handle), as: LoopPoll.self) else {
                    return
                }
                owner.fired(status: status, events: events)
            }, "uv_poll_start")
    }

    override func willClose() {
        uv_poll_stop(poll)
        ready = nil
    }

    private func fired(status: Int32, events: Int32) {
        guard let ready else { return }
        if status < 0 {
            uv_poll_stop(poll)
            ready(.failure(UVError(code: status, operation: "uv_poll")))
        } else {
            ready(.success(Events(rawValue: events)))
        }
    }
}
