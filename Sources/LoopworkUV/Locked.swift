import CLibUV

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A value guarded by a pthread mutex. Copies share the value and the lock, like a class.
///
/// A pthread lock rather than `Synchronization.Mutex`: on Linux the latter produced
/// ThreadSanitizer false positives, and the suite runs under TSan. The mutex lives in the tail of
/// the object's own allocation (a `ManagedBuffer`), so a lock costs one allocation, not two: the
/// framework creates several per request and per background task.
///
/// Public and inlinable, so that callers in other modules specialize it for their values
/// (the compiler does not specialize `package` inlinable code across modules): unspecialized,
/// every lock made or taken looked its generic metadata up at run time. LoopworkUV is not a
/// product; Loopwork's public API never shows this type. The mutex itself is
/// reached through ``LockWords`` only, whose functions are not inlined (inlinable code cannot
/// name `pthread_mutex_t`).
public struct Locked<Value> {
    @usableFromInline let storage: Storage

    @usableFromInline final class Storage: ManagedBuffer<Value, UInt64> {
        deinit {
            withUnsafeMutablePointerToElements { LockWords.destroy($0) }
        }
    }

    @inlinable public init(_ value: Value) {
        let buffer = Storage.create(minimumCapacity: LockWords.count) { _ in value }
        buffer.withUnsafeMutablePointerToElements { LockWords.initialize($0) }
        // `create` returns the dynamic type it was called on.
        storage = unsafeDowncast(buffer, to: Storage.self)
    }

    @discardableResult @inlinable
    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure)
        -> Result
    {
        try storage.withUnsafeMutablePointers {
            (value: UnsafeMutablePointer<Value>, words: UnsafeMutablePointer<UInt64>) throws(Failure) -> Result in
            LockWords.lock(words)
            defer { LockWords.unlock(words) }
            return try body(&value.pointee)
        }
    }
}

/// The words in a ``Locked`` buffer's tail that hold its `pthread_mutex_t`.
@usableFromInline enum LockWords {
    /// How many `UInt64`s a mutex takes (and its alignment, 8 on the platforms we build for).
    @usableFromInline static let count = (MemoryLayout<pthread_mutex_t>.size + 7) / 8

    @usableFromInline static func initialize(_ words: UnsafeMutablePointer<UInt64>) {
        let mutex = UnsafeMutableRawPointer(words).bindMemory(to: pthread_mutex_t.self, capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    @usableFromInline static func lock(_ words: UnsafeMutablePointer<UInt64>) {
        pthread_mutex_lock(mutex(words))
    }

    @usableFromInline static func unlock(_ words: UnsafeMutablePointer<UInt64>) {
        pthread_mutex_unlock(mutex(words))
    }

    static func destroy(_ words: UnsafeMutablePointer<UInt64>) {
        pthread_mutex_destroy(mutex(words))
    }

    private static func mutex(_ words: UnsafeMutablePointer<UInt64>) -> UnsafeMutablePointer<pthread_mutex_t> {
        UnsafeMutableRawPointer(words).assumingMemoryBound(to: pthread_mutex_t.self)
    }
}

// @unchecked: `ManagedBuffer` is not Sendable, but the storage's value is only read or written
// inside `withLock`, which holds the mutex, so no two threads ever touch it at once; the mutex
// sits in the buffer's tail and never moves. Only a `Sendable` value may be shared this way: a
// lock does not make a non-`Sendable` value (a class another thread still holds, a closure
// capturing one) safe to hand between threads.
extension Locked: @unchecked Sendable where Value: Sendable {}
