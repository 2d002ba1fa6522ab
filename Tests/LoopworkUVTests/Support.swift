import LoopworkUV

#if canImport(Glibc)
    import Glibc
#endif

/// A gate that blocks a thread (a pool thread in these tests) until opened.
final class BlockingGate: @unchecked Sendable {
    // @unchecked: `isOpen` is guarded by `mutex`, waited on with `condition`.
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var isOpen = false

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    func wait() {
        pthread_mutex_lock(&mutex)
        while !isOpen { pthread_cond_wait(&condition, &mutex) }
        pthread_mutex_unlock(&mutex)
    }

    func open() {
        pthread_mutex_lock(&mutex)
        isOpen = true
        pthread_cond_broadcast(&condition)
        pthread_mutex_unlock(&mutex)
    }
}

/// Runs a closure on a new pthread.
final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }

    func start() throws -> pthread_t {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(
            &thread, nil,
            { argument in
                guard let argument else { return nil }
                Unmanaged<ThreadBody>.fromOpaque(argument).takeRetainedValue().body()
                return nil
            }, context)
        guard status == 0 else { throw POSIXFailure(code: status) }
        return thread
    }
}

struct POSIXFailure: Error { let code: Int32 }
