import CLibUV

/// What travels with one `uv_fs_t`: the code that reads its result. Released in the request's
/// callback, or at once when the call fails synchronously (no callback will come).
private final class FileRequestContext {
    let core: LoopCore
    let cancellable: Bool
    let finish: (UnsafeMutablePointer<uv_fs_t>) -> Void

    init(core: LoopCore, cancellable: Bool, finish: @escaping (UnsafeMutablePointer<uv_fs_t>) -> Void) {
        self.core = core
        self.cancellable = cancellable
        self.finish = finish
    }
}

/// The callback of every file-system request: `finish` reads the result while the request still
/// holds it, then libuv's copies (path, buffers, realpath string) are freed with the request.
private func fileRequestDone(_ request: UnsafeMutablePointer<uv_fs_t>?) {
    guard let request, let data = request.pointee.data else { return }
    let context = Unmanaged<FileRequestContext>.fromOpaque(data).takeRetainedValue()
    if context.cancellable { context.core.workFinished(loopwork_fs_as_req(request)) }
    context.finish(request)
    uv_fs_req_cleanup(request)
    request.deallocate()
}

/// Starts a `uv_fs_*` call: the loop, the request and the callback to pass it. Returns its status.
typealias FileCall = @Sendable (UnsafeMutablePointer<uv_loop_t>, UnsafeMutablePointer<uv_fs_t>, uv_fs_cb) -> Int32

extension EventLoop {
    /// Makes one asynchronous `uv_fs_*` call; libuv runs it on its thread pool and `finish` runs on
    /// the loop thread with the finished request (its `result` may be an error). Loop thread only.
    ///
    /// - Parameter cancellable: Whether shutdown may withdraw the call while no pool thread has
    ///   started it. Not for closes: a withdrawn close would leak its descriptor.
    /// - Throws: ``UVError/loopClosed`` once the loop is shutting down, or the call's synchronous
    ///   failure; `finish` then never runs.
    func startFileRequest(
        _ operation: String, cancellable: Bool = true, _ call: FileCall,
        finish: @escaping (UnsafeMutablePointer<uv_fs_t>) -> Void
    ) throws(UVError) {
        try checkAccepting()
        let request = UnsafeMutablePointer<uv_fs_t>.allocate(capacity: 1)
        let context = FileRequestContext(core: core, cancellable: cancellable, finish: finish)
        request.pointee.data = Unmanaged.passRetained(context).toOpaque()
        let status = call(uvLoop, request, fileRequestDone)
        guard status == 0 else {
            Unmanaged<FileRequestContext>.fromOpaque(request.pointee.data).release()
            uv_fs_req_cleanup(request)
            request.deallocate()
            throw UVError(code: status, operation: operation)
        }
        if cancellable { core.workStarted(loopwork_fs_as_req(request)) }
    }

    /// Runs `body` on the loop thread (right away when already there) and waits for the result
    /// it hands to `resume`, which must be called exactly once. Any thread.
    func onLoop<T: Sendable>(
        _ body: @escaping @Sendable (_ resume: @escaping @Sendable (Result<T, UVError>) -> Void) -> Void
    )
        async throws(UVError) -> T
    {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, UVError>, Never>) in
            let job: @Sendable () -> Void = { body { continuation.resume(returning: $0) } }
            if inEventLoop {
                job()
            } else if !execute(job) {
                continuation.resume(returning: .failure(.loopClosed))
            }
        }
        return try result.get()
    }

    /// One `uv_fs_*` call from any thread: made on the loop, awaited until its callback, where
    /// `value` reads the result of a call that succeeded.
    func fileRequest<T: Sendable>(
        _ operation: String, _ call: @escaping FileCall,
        value: @escaping @Sendable (UnsafeMutablePointer<uv_fs_t>) -> Result<T, UVError>
    )
        async throws(UVError) -> T
    {
        try await onLoop { resume in
            do throws(UVError) {
                try self.startFileRequest(operation, call) { request in
                    resume(Self.failure(of: request, operation) ?? value(request))
                }
            } catch {
                resume(.failure(error))
            }
        }
    }

    /// The error a finished request reports in `result`, if any.
    static func failure<T>(of request: UnsafeMutablePointer<uv_fs_t>, _ operation: String) -> Result<T, UVError>? {
        let result = request.pointee.result
        return result < 0 ? .failure(UVError(code: Int32(truncatingIfNeeded: result), operation: operation)) : nil
    }

    /// Throws `EINVAL` for a path libuv would silently cut short at an embedded NUL.
    static func checkPath(_ path: String, _ operation: String) throws(UVError) {
        if path.utf8.contains(0) { throw UVError(code: UV_EINVAL.rawValue, operation: operation) }
    }

    // MARK: Paths

    /// The absolute path `path` names once every symbolic link, `.` and `..` is resolved
    /// (`uv_fs_realpath`, run on libuv's thread pool). Any thread.
    ///
    /// - Throws: ``UVError`` such as `ENOENT` when `path` or a component does not exist, `EINVAL`
    ///   for a path containing NUL, `EILSEQ` when the resolved path is not UTF-8, and
    ///   ``UVError/loopClosed`` once the loop is shutting down.
    public func realPath(_ path: String) async throws(UVError) -> String {
        try Self.checkPath(path, "uv_fs_realpath")
        return try await fileRequest("uv_fs_realpath", { uv_fs_realpath($0, $1, path, $2) }) { request in
            guard let pointer = request.pointee.ptr,
                let resolved = String(validatingCString: pointer.assumingMemoryBound(to: CChar.self))
            else {
                return .failure(UVError(code: UV_EILSEQ.rawValue, operation: "uv_fs_realpath"))
            }
            return .success(resolved)
        }
    }

    /// The status of the file `path` names, following symbolic links (`uv_fs_stat`, run on
    /// libuv's thread pool). Any thread.
    ///
    /// - Throws: ``UVError`` such as `ENOENT` or `EACCES`, `EINVAL` for a path containing NUL, and
    ///   ``UVError/loopClosed`` once the loop is shutting down.
    public func status(ofPath path: String) async throws(UVError) -> FileStatus {
        try Self.checkPath(path, "uv_fs_stat")
        return try await fileRequest("uv_fs_stat", { uv_fs_stat($0, $1, path, $2) }) { request in
            .success(FileStatus(request.pointee.statbuf))
        }
    }
}
