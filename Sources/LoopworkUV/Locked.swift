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
// @unchecked: `ManagedBuffer` is not Sendable, but the storage's value is only read or written
// inside `withLock`, which holds the mutex, so no two threads ever touch it at once; the mutex
// sits in the buffer's tail and never moves.
package struct Locked<Value>: @unchecked Sendable {
    private let storage: Storage

    private final class Storage: ManagedBuffer<Value, pthread_mutex_t> {
        deinit {
            _ = withUnsafeMutablePointers { _, mutex in pthread_mutex_destroy(mutex) }
        }
    }

    package init(_ value: Value) {
        let buffer = Storage.create(minimumCapacity: 1) { _ in value }
        buffer.withUnsafeMutablePointerToElements { mutex in
            mutex.initialize(to: pthread_mutex_t())
            pthread_mutex_init(mutex, nil)
        }
        // `create` returns the dynamic type it was called on.
        storage = unsafeDowncast(buffer, to: Storage.self)
    }

    @discardableResult
    package func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        try storage.withUnsafeMutablePointers { (value: UnsafeMutablePointer<Value>, mutex: UnsafeMutablePointer<pthread_mutex_t>) throws(Failure) -> Result in
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return try body(&value.pointee)
        }
    }
}
