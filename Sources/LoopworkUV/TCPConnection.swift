import CLibUV

#if canImport(Glibc)
    import Glibc
#endif

/// One TCP stream on a loop, accepted by a ``TCPListener`` or opened with
/// ``connect(on:host:port:completion:)``. Loop-bound: every method runs on the loop thread.
public final class TCPConnection: LoopHandle {
    private var onBytes: ((UnsafeRawBufferPointer) -> Void)?
    private var onEnd: ((UVError?) -> Void)?
    private var reading = false
    private var endReported = false
    /// Writes handed to `uv_write` whose callback has not come yet; a later write must queue
    /// behind them rather than jump ahead with `uv_try_write`.
    private var writesInFlight = 0
    /// The bytes those writes hold (copied for libuv) until their callbacks.
    private var bytesInFlight = 0
    /// The peer's address, read once connected: after a reset the socket no longer knows it.
    private var peer: String?

    private init(loop: EventLoop) {
        super.init(loop: loop, allocating: uv_tcp_t.self) { loopwork_tcp_as_handle($0) }
    }

    private var tcp: UnsafeMutablePointer<uv_tcp_t> { handle(as: uv_tcp_t.self) }

    private var stream: UnsafeMutablePointer<uv_stream_t> { loopwork_tcp_as_stream(tcp) }

    private static func make(on loop: EventLoop) throws(UVError) -> TCPConnection {
        let connection = TCPConnection(loop: loop)
        let status = uv_tcp_init(loop.uvLoop, connection.tcp)
        guard status == 0 else {
            connection.discardUninitialized()
            throw UVError(code: status, operation: "uv_tcp_init")
        }
        connection.retainForLibuv()
        return connection
    }

    static func makeAccepted(on loop: EventLoop, from server: UnsafeMutablePointer<uv_stream_t>) throws(UVError)
        -> TCPConnection
    {
        let connection = try make(on: loop)
        let status = uv_accept(server, connection.stream)
        guard status == 0 else {
            connection.close()
            throw UVError(code: status, operation: "uv_accept")
        }
        connection.peer = connection.readPeerAddress()
        return connection
    }

    // MARK: Reading

    /// Starts reading. `onBytes` gets each chunk, valid only during the call (the buffer is the
    /// loop's, reused by the next read). `onEnd` is called once: `nil` at the peer's EOF, an error
    /// when the read failed (reset, ...); no bytes follow it.
    public func startReading(onBytes: @escaping (UnsafeRawBufferPointer) -> Void, onEnd: @escaping (UVError?) -> Void) {
        loop.assertInLoop()
        self.onBytes = onBytes
        self.onEnd = onEnd
        resumeReading()
    }

    /// Pauses reading (backpressure); ``resumeReading()`` continues with the same callbacks.
    public func stopReading() {
        loop.assertInLoop()
        guard reading, !isClosing else { return }
        reading = false
        uv_read_stop(stream)
    }

    /// Resumes reading after ``stopReading()``.
    public func resumeReading() {
        loop.assertInLoop()
        guard !reading, !isClosing, !endReported, onBytes != nil else { return }
        let status = uv_read_start(
            stream,
            { handle, _, buffer in
                guard let buffer, let owner = LoopHandle.owner(of: handle, as: TCPConnection.self) else { return }
                let readBuffer = owner.loop.readBuffer
                buffer.pointee = uv_buf_init(
                    readBuffer.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(readBuffer.count))
            },
            { stream, count, buffer in
                guard
                    let owner = LoopHandle.owner(of: stream.flatMap(loopwork_stream_as_handle), as: TCPConnection.self)
                else { return }
                owner.didRead(count: count, base: buffer?.pointee.base)
            })
        if status == 0 {
            reading = true
        } else {
            reportEnd(UVError(code: status, operation: "uv_read_start"))
        }
    }

    private func didRead(count: Int, base: UnsafeMutablePointer<CChar>?) {
        if count > 0, let base {
            onBytes?(UnsafeRawBufferPointer(start: base, count: count))
        } else if count < 0 {
            reading = false
            uv_read_stop(stream)
            reportEnd(Int32(count) == UV_EOF.rawValue ? nil : UVError(code: Int32(count), operation: "read"))
        }
    }

    private func reportEnd(_ error: UVError?) {
        guard !endReported else { return }
        endReported = true
        let callback = onEnd
        onEnd = nil
        onBytes = nil
        callback?(error)
    }

    // MARK: Writing

    /// Sends `bytes`, in order after earlier writes. `completion` is called exactly once: `nil`
    /// once every byte is handed to the kernel, or the error (peer gone, `ECANCELED` when the
    /// connection closed first).
    ///
    /// When nothing is queued, `uv_try_write` is tried first; if it takes every byte, libuv will
    /// make no callback, so `completion` runs synchronously, before `write` returns. It also runs
    /// synchronously with an error when the connection is already closing (`ECANCELED`) or the
    /// immediate write fails (`EPIPE`, `ECONNRESET`). Otherwise it runs from the `uv_write` callback.
    public func write(_ bytes: [UInt8], completion: ((UVError?) -> Void)? = nil) {
        loop.assertInLoop()
        guard !isClosing else {
            completion?(UVError(code: UV_ECANCELED.rawValue, operation: "uv_write"))
            return
        }
        var offset = 0
        if writesInFlight == 0 {
            let written = bytes.withUnsafeBytes { raw -> Int32 in
                var buffer = uv_buf_init(
                    UnsafeMutableRawPointer(mutating: raw.baseAddress)?.assumingMemoryBound(to: CChar.self),
                    UInt32(raw.count))
                return uv_try_write(stream, &buffer, 1)
            }
            if written >= 0 {
                offset = Int(written)
            } else if written != UV_EAGAIN.rawValue {
                completion?(UVError(code: written, operation: "uv_try_write"))
                return
            }
            if offset == bytes.count {
                completion?(nil)
                return
            }
        }
        queueWrite([bytes[offset...]], completion: completion)
    }

    /// Sends `prefix`, `bytes` and `suffix` as one write, as ``write(_:completion:)`` does, without
    /// first copying them into one buffer: the kernel gets the three at once (`uv_try_write`
    /// with three buffers), and only what it did not take is copied for `uv_write`. For framing
    /// a large chunk, such as an HTTP chunk's size line and CRLF around its data.
    public func write(_ bytes: [UInt8], prefix: [UInt8], suffix: [UInt8], completion: ((UVError?) -> Void)? = nil) {
        loop.assertInLoop()
        guard !isClosing else {
            completion?(UVError(code: UV_ECANCELED.rawValue, operation: "uv_write"))
            return
        }
        let total = prefix.count + bytes.count + suffix.count
        var offset = 0
        if writesInFlight == 0 {
            let written = Self.tryWrite(stream, prefix, bytes, suffix)
            if written >= 0 {
                offset = Int(written)
            } else if written != UV_EAGAIN.rawValue {
                completion?(UVError(code: written, operation: "uv_try_write"))
                return
            }
            if offset == total {
                completion?(nil)
                return
            }
        }
        // What the kernel did not take, in order, copied once into the write request's storage.
        var unsent: [ArraySlice<UInt8>] = []
        for part in [prefix, bytes, suffix] {
            if offset >= part.count {
                offset -= part.count
            } else {
                unsent.append(part[offset...])
                offset = 0
            }
        }
        queueWrite(unsent, completion: completion)
    }

    private static func tryWrite(
        _ stream: UnsafeMutablePointer<uv_stream_t>, _ first: [UInt8], _ second: [UInt8],
        _ third: [UInt8]
    ) -> Int32 {
        first.withUnsafeBytes { a in
            second.withUnsafeBytes { b in
                third.withUnsafeBytes { c in
                    withUnsafeTemporaryAllocation(of: uv_buf_t.self, capacity: 3) { buffers in
                        buffers[0] = buffer(a)
                        buffers[1] = buffer(b)
                        buffers[2] = buffer(c)
                        return uv_try_write(stream, buffers.baseAddress, 3)
                    }
                }
            }
        }
    }

    private static func buffer(_ bytes: UnsafeRawBufferPointer) -> uv_buf_t {
        uv_buf_init(
            UnsafeMutableRawPointer(mutating: bytes.baseAddress)?.assumingMemoryBound(to: CChar.self),
            UInt32(bytes.count))
    }

    private func queueWrite(_ parts: [ArraySlice<UInt8>], completion: ((UVError?) -> Void)?) {
        let context = WriteContext(parts: parts, completion: completion)
        let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(context).toOpaque()
        var buffer = uv_buf_init(
            context.storage.baseAddress?.assumingMemoryBound(to: CChar.self), UInt32(context.storage.count))
        let status = uv_write(request, stream, &buffer, 1) { request, status in
            guard let request, let data = request.pointee.data else { return }
            let context = Unmanaged<WriteContext>.fromOpaque(data).takeRetainedValue()
            let owner = request.pointee.handle.flatMap {
                LoopHandle.owner(of: loopwork_stream_as_handle($0), as: TCPConnection.self)
            }
            request.deallocate()
            owner?.writesInFlight -= 1
            owner?.bytesInFlight -= context.storage.count
            context.finish(status < 0 ? UVError(code: status, operation: "uv_write") : nil)
        }
        if status == 0 {
            writesInFlight += 1
            bytesInFlight += context.storage.count
        } else {
            Unmanaged<WriteContext>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            context.finish(UVError(code: status, operation: "uv_write"))
        }
    }

    /// Bytes handed to `uv_write` whose write has not completed: the measure for backpressure.
    ///
    /// Not libuv's write-queue size: libuv writes a request at once when its queue is empty, so
    /// the queue can read 0 while the copies of many written requests wait for their callbacks on
    /// the next loop turn. A writer that went on while the queue read 0 would hold without bound
    /// memory the kernel already has.
    public var pendingWriteBytes: Int {
        isClosing ? 0 : bytesInFlight
    }

    /// Half-closes: sends FIN after the queued writes (`uv_shutdown`); reading goes on.
    public func shutdownWrite(_ completion: ((UVError?) -> Void)? = nil) {
        loop.assertInLoop()
        guard !isClosing else {
            completion?(UVError(code: UV_ECANCELED.rawValue, operation: "uv_shutdown"))
            return
        }
        let request = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        let context = CallbackContext(completion)
        request.pointee.data = Unmanaged.passRetained(context).toOpaque()
        let status = uv_shutdown(request, stream) { request, status in
            guard let request, let data = request.pointee.data else { return }
            let context = Unmanaged<CallbackContext>.fromOpaque(data).takeRetainedValue()
            request.deallocate()
            context.completion?(status < 0 ? UVError(code: status, operation: "uv_shutdown") : nil)
        }
        if status != 0 {
            Unmanaged<CallbackContext>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            completion?(UVError(code: status, operation: "uv_shutdown"))
        }
    }

    /// Disables (or enables) Nagle's algorithm.
    public func setNoDelay(_ enabled: Bool) {
        loop.assertInLoop()
        guard !isClosing else { return }
        uv_tcp_nodelay(tcp, enabled ? 1 : 0)
    }

    /// The peer's `host:port` (`[::1]:port` for IPv6), read when the connection was established.
    public var remoteAddress: String? { peer }

    private func readPeerAddress() -> String? {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_tcp_getpeername(tcp, $0, &length) }
        }
        guard status == 0, let (host, port) = SocketAddress.describe(storage) else { return nil }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    override func willClose() {
        reading = false
        // Reads stop with the close; a reader still waiting learns of it as an error.
        reportEnd(UVError(code: UV_ECANCELED.rawValue, operation: "close"))
    }

    /// Whether the connection has been closed (or is closing); pending writes complete with
    /// `ECANCELED` when it closes.
    public var isClosed: Bool { isClosing }

    // MARK: Client side

    /// Connects to `host:port` (numeric address); `completion` runs on the loop. Loop thread only.
    public static func connect(
        on loop: EventLoop, host: String, port: Int,
        completion: @escaping (Result<TCPConnection, UVError>) -> Void
    ) {
        loop.assertInLoop()
        let connection: TCPConnection
        let address: SocketAddress
        do {
            try loop.checkAccepting()
            address = try SocketAddress(host: host, port: port)
            connection = try make(on: loop)
        } catch {
            completion(.failure(error))
            return
        }
        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        let context = ConnectContext(connection: connection, completion: completion)
        request.pointee.data = Unmanaged.passRetained(context).toOpaque()
        let status = address.withSockaddr { pointer in
            uv_tcp_connect(request, connection.tcp, pointer) { request, status in
                guard let request, let data = request.pointee.data else { return }
                let context = Unmanaged<ConnectContext>.fromOpaque(data).takeRetainedValue()
                request.deallocate()
                if status == 0 {
                    context.connection.peer = context.connection.readPeerAddress()
                    context.completion(.success(context.connection))
                } else {
                    context.connection.close()
                    context.completion(.failure(UVError(code: status, operation: "uv_tcp_connect")))
                }
            }
        }
        if status != 0 {
            Unmanaged<ConnectContext>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            connection.close()
            completion(.failure(UVError(code: status, operation: "uv_tcp_connect")))
        }
    }
}

/// A write request's bytes (libuv does not copy them) and its completion, released in the
/// write callback.
private final class WriteContext {
    let storage: UnsafeMutableRawBufferPointer
    private var completion: ((UVError?) -> Void)?

    init(parts: [ArraySlice<UInt8>], completion: ((UVError?) -> Void)?) {
        storage = .allocate(byteCount: max(parts.reduce(0) { $0 + $1.count }, 1), alignment: 1)
        var offset = 0
        for part in parts {
            part.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: storage[offset...]).copyMemory(from: $0) }
            offset += part.count
        }
        self.completion = completion
    }

    func finish(_ error: UVError?) {
        let callback = completion
        completion = nil
        callback?(error)
    }

    deinit { storage.deallocate() }
}

private final class CallbackContext {
    let completion: ((UVError?) -> Void)?
    init(_ completion: ((UVError?) -> Void)?) { self.completion = completion }
}

private final class ConnectContext {
    let connection: TCPConnection
    let completion: (Result<TCPConnection, UVError>) -> Void

    init(connection: TCPConnection, completion: @escaping (Result<TCPConnection, UVError>) -> Void) {
        self.connection = connection
        self.completion = completion
    }
}
