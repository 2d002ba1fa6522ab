import CLibUV

#if canImport(Glibc)
    import Glibc
#endif

/// A listening TCP socket on a loop. Loop-bound.
public final class TCPListener: LoopHandle {
    private let onConnection: (TCPConnection) -> Void
    /// Called on the loop when libuv reports that accepting a pending connection failed; the
    /// listener keeps listening. Unset, such failures are dropped.
    ///
    /// `EMFILE` and `ENFILE` rarely get here: libuv frees a descriptor it keeps in reserve,
    /// accepts and closes the pending connections, and reports nothing, so only when that
    /// reserve is gone too does the shortage reach this callback. What does arrive is the rest of
    /// `accept`'s errors: `ENOBUFS`, `ENOMEM`, `EPERM` from a firewall, `EINVAL` once the socket
    /// no longer listens. libuv retries at once after each, so an error that persists is
    /// reported over and over on the loop thread (and, unset, spins it silently) until the
    /// listener is closed: close it when the error will not go away.
    public var onAcceptError: ((UVError) -> Void)?
    /// The port the socket is bound to.
    public private(set) var localPort = 0

    private init(loop: EventLoop, onConnection: @escaping (TCPConnection) -> Void) {
        self.onConnection = onConnection
        super.init(loop: loop, allocating: uv_tcp_t.self) { loopwork_tcp_as_handle($0) }
    }

    private var tcp: UnsafeMutablePointer<uv_tcp_t> { handle(as: uv_tcp_t.self) }

    /// The listening socket's descriptor, nil once closing. Loop thread only.
    ///
    /// Package-only so that tests can act on the real socket: making a live socket's `accept`
    /// fail is otherwise possible only through process-wide limits (`RLIMIT_NOFILE`). It is not
    /// public because libuv owns the descriptor: closing it or changing its flags would break
    /// the listener behind libuv's back.
    package var socketDescriptor: Int32? {
        loop.assertInLoop()
        var fd = uv_os_fd_t()
        return uv_fileno(handle, &fd) == 0 ? fd : nil
    }

    /// Binds and listens on `host:port`, calling `onConnection` on the loop for each accepted
    /// connection. Loop thread only.
    ///
    /// - Parameters:
    ///   - host: A numeric IPv4 or IPv6 address (`0.0.0.0`, `::1`, ...).
    ///   - port: The port; 0 lets the kernel pick one (read it from ``localPort``).
    ///   - backlog: The kernel's queue of not yet accepted connections.
    ///   - reusePort: Sets `SO_REUSEPORT` before binding, so one listener per loop can share
    ///     the port and the kernel spreads connections over them.
    /// - Throws: ``UVError`` naming the failing call, such as `uv_tcp_bind` with `EADDRINUSE`.
    public static func listen(
        on loop: EventLoop, host: String, port: Int, backlog: Int32 = 1024, reusePort: Bool = false,
        onConnection: @escaping (TCPConnection) -> Void
    ) throws(UVError) -> TCPListener {
        try loop.checkAccepting()
        let address = try SocketAddress(host: host, port: port)
        let listener = TCPListener(loop: loop, onConnection: onConnection)
        // uv_tcp_init_ex creates the socket now, so SO_REUSEPORT can be set before bind.
        let status = uv_tcp_init_ex(loop.uvLoop, listener.tcp, UInt32(address.family))
        guard status == 0 else {
            listener.discardUninitialized()
            throw UVError(code: status, operation: "uv_tcp_init_ex")
        }
        listener.retainForLibuv()
        do {
            if reusePort {
                var fd = uv_os_fd_t()
                try UVError.check(uv_fileno(listener.handle, &fd), "uv_fileno")
                var one: Int32 = 1
                if setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                    throw UVError(code: -errno, operation: "setsockopt(SO_REUSEPORT)")
                }
            }
            try address.withSockaddr { pointer throws(UVError) in
                try UVError.check(uv_tcp_bind(listener.tcp, pointer, 0), "uv_tcp_bind")
            }
            // libuv defers a bind's EADDRINUSE to uv_listen; uv_tcp_getsockname reports that
            // deferred error, so it is named after the call that really failed. It also yields
            // the bound port when `port` is 0.
            var probe = sockaddr_storage()
            var probeLength = Int32(MemoryLayout<sockaddr_storage>.size)
            let deferred = withUnsafeMutablePointer(to: &probe) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    uv_tcp_getsockname(listener.tcp, $0, &probeLength)
                }
            }
            try UVError.check(deferred, "uv_tcp_bind")
            try UVError.check(
                uv_listen(loopwork_tcp_as_stream(listener.tcp), backlog) { server, status in
                    guard
                        let owner = LoopHandle.owner(
                            of: server.flatMap(loopwork_stream_as_handle), as: TCPListener.self)
                    else { return }
                    owner.accept(status: status)
                }, "uv_listen")
            listener.localPort = SocketAddress.describe(probe)?.port ?? port
        } catch let error as UVError {
            listener.close()
            throw error
        } catch {
            listener.close()
            throw UVError(code: UV_EINVAL.rawValue, operation: "listen: \(error)")
        }
        return listener
    }

    private func accept(status: Int32) {
        // A failed accept (EMFILE, ...) concerns one pending connection; the listener goes on.
        guard !isClosing else { return }
        guard status == 0 else {
            onAcceptError?(UVError(code: status, operation: "uv_listen"))
            return
        }
        do {
            onConnection(try TCPConnection.makeAccepted(on: loop, from: loopwork_tcp_as_stream(tcp)))
        } catch {
            onAcceptError?(error)
        }
    }
}
