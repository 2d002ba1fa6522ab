import CLibUV

/// Starts a thread running `body`. The thread holds `body`, and so what it captures, until it
/// returns: an object the body runs on lives at least as long as its thread.
///
/// - Throws: ``UVError`` when libuv cannot create the thread; `body` is then released unrun.
func spawnThread(_ body: @escaping @Sendable () -> Void) throws(UVError) -> uv_thread_t {
    var thread = uv_thread_t()
    let entry = Unmanaged.passRetained(ThreadEntry(body)).toOpaque()
    let status = uv_thread_create(
        &thread,
        { argument in
            guard let argument else { return }
            Unmanaged<ThreadEntry>.fromOpaque(argument).takeRetainedValue().body()
        }, entry)
    guard status == 0 else {
        Unmanaged<ThreadEntry>.fromOpaque(entry).release()
        throw UVError(code: status, operation: "uv_thread_create")
    }
    return thread
}

/// What a thread started by ``spawnThread(_:)`` runs, boxed to pass through libuv's `void *`.
private final class ThreadEntry {
    let body: @Sendable () -> Void

    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
