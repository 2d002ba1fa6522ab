import CLibUV

#if canImport(Glibc)
    import Glibc
#endif

/// A file opened for reading, whose every call runs on libuv's thread pool through its loop, so
/// the loop never waits on the disk. Any thread: each call hops to the loop and back.
///
/// Calls may overlap; ``close()`` waits for the ones in flight before it closes the descriptor,
/// so a read never meets a descriptor number reused by another file. A file dropped while open
/// is closed in the background.
public final class LoopFile: Sendable {
    /// The loop whose thread pool serves this file.
    public let loop: EventLoop
    private let descriptor: Int32
    private let state = Locked(State())

    /// The most one ``read(upTo:at:)`` allocates and returns.
    public static let maximumReadSize = 16 * 1024 * 1024

    private enum Phase {
        case open
        /// ``close()`` was called while calls were in flight; the last one to finish closes.
        case closeRequested
        case closing
        case closed
    }

    private struct State {
        var phase = Phase.open
        var callsInFlight = 0
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private init(loop: EventLoop, descriptor: Int32) {
        self.loop = loop
        self.descriptor = descriptor
    }

    deinit {
        // Every call in flight and every waiting close holds the file, so nothing uses the
        // descriptor any more.
        if state.withLock({ $0.phase == .open }) {
            Self.closeDescriptor(descriptor, on: loop) {}
        }
    }

    /// Opens `path` read-only (`uv_fs_open` with `O_CLOEXEC`, and `O_NONBLOCK` so that a FIFO
    /// cannot hold a pool thread until a writer comes; reads of regular files ignore it).
    /// Directories open too: check ``status()`` before reading.
    ///
    /// - Throws: ``UVError`` such as `ENOENT` or `EACCES`, `EINVAL` for a path containing NUL, and
    ///   ``UVError/loopClosed`` once the loop is shutting down.
    public static func open(_ path: String, on loop: EventLoop) async throws(UVError) -> LoopFile {
        try EventLoop.checkPath(path, "uv_fs_open")
        let descriptor: Int32 = try await loop.fileRequest(
            "uv_fs_open",
            {
                uv_fs_open($0, $1, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0, $2)
            }
        ) { request in
            .success(Int32(truncatingIfNeeded: request.pointee.result))
        }
        return LoopFile(loop: loop, descriptor: descriptor)
    }

    /// The open file's status (`uv_fs_fstat`): it describes what was opened, even if the path has
    /// been replaced since.
    ///
    /// - Throws: ``UVError``; `EBADF` once the file is closed.
    public func status() async throws(UVError) -> FileStatus {
        try await perform("uv_fs_fstat", { [descriptor] in uv_fs_fstat($0, $1, descriptor, $2) }) { request in
            FileStatus(request.pointee.statbuf)
        }
    }

    /// Reads up to `count` bytes (at most ``maximumReadSize``) starting at byte `offset`
    /// (`uv_fs_read`, a positioned read: calls do not share a file position).
    ///
    /// - Returns: The bytes read: fewer than asked near the end of the file, none at or past it.
    /// - Throws: ``UVError``: `EINVAL` for a negative count or offset, `EISDIR` for a directory,
    ///   `EBADF` once the file is closed.
    public func read(upTo count: Int, at offset: Int64) async throws(UVError) -> [UInt8] {
        guard count >= 0, offset >= 0 else { throw UVError(code: UV_EINVAL.rawValue, operation: "uv_fs_read") }
        guard count > 0 else { return [] }
        let buffer = ReadBuffer(count: min(count, Self.maximumReadSize))
        return try await perform(
            "uv_fs_read",
            { [descriptor] loop, request, callback in
                var slice = uv_buf_init(buffer.base, UInt32(buffer.count))
                return uv_fs_read(loop, request, descriptor, &slice, 1, offset, callback)
            }
        ) { request in
            buffer.bytes(Int(request.pointee.result))
        }
    }

    /// Closes the descriptor (`uv_fs_close`) once the calls in flight have finished, and returns
    /// when it is closed; later calls fail with `EBADF`. Idempotent: a second close waits for the
    /// same one. A close that fails (`EIO`) still releases the descriptor; nothing is reported.
    public func close() async {
        await withCheckedContinuation { continuation in
            let closeNow: Bool? = state.withLock { state in
                switch state.phase {
                case .closed:
                    return nil
                case .open:
                    state.phase = state.callsInFlight == 0 ? .closing : .closeRequested
                    state.closeWaiters.append(continuation)
                    return state.phase == .closing
                case .closeRequested, .closing:
                    state.closeWaiters.append(continuation)
                    return false
                }
            }
            switch closeNow {
            case nil: continuation.resume()
            case true?: closeDescriptor()
            case false?: break
            }
        }
    }

    // MARK: Calls in flight

    /// Makes one call on the descriptor, counted in flight from its start on the loop thread to
    /// its callback; a call that reaches the loop after ``close()`` fails with `EBADF`.
    private func perform<T: Sendable>(
        _ operation: String, _ call: @escaping FileCall,
        value: @escaping @Sendable (UnsafeMutablePointer<uv_fs_t>) -> T
    ) async throws(UVError) -> T {
        try await loop.onLoop { resume in
            guard self.beginCall() else {
                resume(.failure(UVError(code: UV_EBADF.rawValue, operation: operation)))
                return
            }
            do throws(UVError) {
                try self.loop.startFileRequest(operation, call) { request in
                    let result = EventLoop.failure(of: request, operation) ?? .success(value(request))
                    self.endCall()
                    resume(result)
                }
            } catch {
                self.endCall()
                resume(.failure(error))
            }
        }
    }

    private func beginCall() -> Bool {
        state.withLock { state in
            guard state.phase == .open else { return false }
            state.callsInFlight += 1
            return true
        }
    }

    private func endCall() {
        let closeNow = state.withLock { state in
            state.callsInFlight -= 1
            guard state.callsInFlight == 0, state.phase == .closeRequested else { return false }
            state.phase = .closing
            return true
        }
        if closeNow { closeDescriptor() }
    }

    private func closeDescriptor() {
        Self.closeDescriptor(descriptor, on: loop) { [self] in
            let waiters = state.withLock { state in
                state.phase = .closed
                defer { state.closeWaiters = [] }
                return state.closeWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Closes `descriptor` with `uv_fs_close` on the loop; once the loop takes no more work
    /// (shutting down), with `close(2)` right where the caller is: closing a read-only descriptor
    /// does not wait on the disk, and nothing else would close it. `done` runs once it is closed.
    /// Any thread; the caller guarantees no call uses the descriptor any more.
    private static func closeDescriptor(_ descriptor: Int32, on loop: EventLoop, done: @escaping @Sendable () -> Void) {
        let job: @Sendable () -> Void = {
            do throws(UVError) {
                // Not cancellable: a close withdrawn by shutdown would leak the descriptor.
                try loop.startFileRequest("uv_fs_close", cancellable: false, { uv_fs_close($0, $1, descriptor, $2) }) {
                    _ in
                    done()
                }
            } catch {
                _ = Glibc.close(descriptor)
                done()
            }
        }
        if loop.inEventLoop {
            job()
        } else if !loop.execute(job) {
            _ = Glibc.close(descriptor)
            done()
        }
    }
}

/// The memory a read fills: `uv_fs_read` does not copy it, so it lives as long as the closures
/// that start and finish the read, which the request's context holds until its callback.
// @unchecked: filled by a pool thread during the read and copied out on the loop thread in the
// callback; libuv's work queue orders the two.
private final class ReadBuffer: @unchecked Sendable {
    let base: UnsafeMutablePointer<CChar>
    let count: Int

    init(count: Int) {
        self.count = count
        base = .allocate(capacity: count)
    }

    func bytes(_ filled: Int) -> [UInt8] {
        [UInt8](UnsafeRawBufferPointer(start: base, count: max(0, min(filled, count))))
    }

    deinit { base.deallocate() }
}
