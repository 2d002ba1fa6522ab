import CLibUV

/// The one Swift owner of a libuv handle: the common base of ``TCPListener``,
/// ``TCPConnection``, ``LoopTimer`` and ``SignalWatcher``. Loop-bound.
///
/// The handle's `data` field holds this owner with a +1 retain taken at creation; the retain and
/// the handle's memory are released only in the `uv_close` callback, the one moment libuv
/// promises to never touch the handle again. Subclasses add the handle-specific behaviour.
public class LoopHandle {
    let loop: EventLoop
    /// The handle memory, typed as the base `uv_handle_t` libuv's generic calls take.
    let handle: UnsafeMutablePointer<uv_handle_t>
    private let memory: UnsafeMutableRawPointer
    /// Whether ``close(_:)`` was called; the handle is closed or about to be.
    public private(set) var isClosing = false
    private var closeCompleted = false
    private var closeCallbacks: [() -> Void] = []

    /// Allocates the memory of one `Handle` (a `uv_*_t`, not yet initialised), whose base view
    /// `asHandle` gives. The caller initialises the handle with libuv, then calls
    /// ``retainForLibuv()``.
    init<Handle>(
        loop: EventLoop, allocating _: Handle.Type,
        _ asHandle: (UnsafeMutablePointer<Handle>) -> UnsafeMutablePointer<uv_handle_t>
    ) {
        let typed = UnsafeMutablePointer<Handle>.allocate(capacity: 1)
        self.loop = loop
        self.memory = UnsafeMutableRawPointer(typed)
        self.handle = asHandle(typed)
    }

    /// The handle as the `uv_*_t` it was allocated as.
    func handle<Handle>(as _: Handle.Type) -> UnsafeMutablePointer<Handle> {
        memory.assumingMemoryBound(to: Handle.self)
    }

    /// Stores the +1 owner reference in `handle->data`; from here on only `uv_close` releases it.
    func retainForLibuv() {
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// Frees memory of a handle whose `uv_*_init` failed, so libuv never knew it.
    func discardUninitialized() {
        memory.deallocate()
    }

    /// Closes the handle (`uv_close`); `onClosed` runs from libuv's close callback, after which
    /// libuv never touches the handle again. Idempotent: a later call only adds its callback (run
    /// at once if the handle has already closed). Loop thread only.
    public func close(_ onClosed: (() -> Void)? = nil) {
        loop.assertInLoop()
        if closeCompleted {
            onClosed?()
            return
        }
        if let onClosed { closeCallbacks.append(onClosed) }
        guard !isClosing else { return }
        isClosing = true
        willClose()
        uv_close(handle) { handle in
            guard let handle, let data = handle.pointee.data else { return }
            let owner = Unmanaged<LoopHandle>.fromOpaque(data).takeRetainedValue()
            owner.didClose()
        }
    }

    /// Subclass hook, called once right before `uv_close`.
    func willClose() {}

    private func didClose() {
        closeCompleted = true
        let callbacks = closeCallbacks
        closeCallbacks = []
        handle.pointee.data = nil
        memory.deallocate()
        for callback in callbacks { callback() }
    }

    /// The owner stored in a handle's `data`, for C callbacks.
    static func owner<Owner: LoopHandle>(of handle: UnsafeMutablePointer<uv_handle_t>?, as type: Owner.Type) -> Owner? {
        guard let data = handle?.pointee.data else { return nil }
        // Each C callback is registered by exactly one subclass, so `data` holds that type.
        return Unmanaged<Owner>.fromOpaque(data).takeUnretainedValue()
    }
}
