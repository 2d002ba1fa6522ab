import CLibUV

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Lines appended from any thread, written to a file descriptor in batches by a thread of its
/// own: a caller pays for a copy under a short lock, never for a system call.
///
/// The writer gathers what arrived while it was writing or napping (``batchInterval``) and
/// writes it in one `write(2)`. The buffer is bounded (``capacity``): when the writer falls
/// behind — a slow terminal, a full pipe — lines that do not fit are dropped, counted in
/// ``droppedLines``, and reported in the output itself (`N log lines dropped`) once the writer
/// catches up, so a flood of log lines never blocks an event loop nor grows memory without bound.
/// ``flush()`` returns once everything appended before it has been written; ``standardOutput``
/// and ``standardError`` also flush when the process exits normally.
// @unchecked: every stored `var` is read and written only while holding `mutex`, except `spare`,
// which only the writer thread touches between taking it and handing it back under the mutex.
public final class LineWriter: @unchecked Sendable {
    /// The most bytes waiting to be written; a line that would pass it is dropped.
    public let capacity: Int
    /// How long the writer waits after a write for more lines to gather, bounding the writes a
    /// second (about 100 at the default) whatever the rate of lines. A line logged while the
    /// writer is idle is written at once; one logged during the wait is written after it. Every
    /// nap and write costs the CPU the loops run on, which at 1 ms was a few percent of a busy loop.
    public let batchInterval: Duration
    private let descriptor: Int32
    private let mutex = UnsafeMutablePointer<uv_mutex_t>.allocate(capacity: 1)
    /// The writer waits on it for lines, a flush or the stop.
    private let wake = UnsafeMutablePointer<uv_cond_t>.allocate(capacity: 1)
    /// Flushers wait on it for the writer to finish a batch.
    private let batchWritten = UnsafeMutablePointer<uv_cond_t>.allocate(capacity: 1)
    private var thread = uv_thread_t()
    private var pending: [UInt8] = []
    private var spare: [UInt8] = []
    private var appendedLines: UInt64 = 0
    private var writtenLines: UInt64 = 0
    private var droppedSinceReport = 0
    private var droppedTotal = 0
    private var writerIsWaiting = false
    private var flushers = 0
    private var stopping = false
    private var stopped = false
    /// Whether the writer thread started; without it, callers write their lines themselves.
    private var hasThread = false

    /// Standard output, created on first use.
    public static let standardOutput = LineWriter(fileDescriptor: STDOUT_FILENO)
    /// Standard error, created on first use.
    public static let standardError = LineWriter(fileDescriptor: STDERR_FILENO)

    /// Every writer not stopped, flushed when the process exits normally.
    private static let live = Locked<(writers: [ObjectIdentifier: LineWriter], exitHookInstalled: Bool)>(([:], false))

    /// Starts the writer thread for `fileDescriptor`, which stays the caller's to close. Should
    /// the thread fail to start, lines are written at once instead, by the caller.
    public init(fileDescriptor: Int32, capacity: Int = 1 << 20, batchInterval: Duration = .milliseconds(10)) {
        self.descriptor = fileDescriptor
        self.capacity = max(1, capacity)
        self.batchInterval = max(.zero, batchInterval)
        uv_mutex_init(mutex)
        uv_cond_init(wake)
        uv_cond_init(batchWritten)
        guard let thread = try? spawnThread({ [self] in runWriter() }) else { return }
        uv_mutex_lock(mutex)
        self.thread = thread
        hasThread = true
        uv_mutex_unlock(mutex)
        let installHook = Self.live.withLock { live in
            live.writers[ObjectIdentifier(self)] = self
            defer { live.exitHookInstalled = true }
            return !live.exitHookInstalled
        }
        if installHook { atexit { LineWriter.flushAll() } }
    }

    /// Flushes every writer not stopped: at process exit, and for servers that stop otherwise.
    public static func flushAll() {
        for writer in live.withLock({ Array($0.writers.values) }) { writer.flush() }
    }

    deinit {
        // The writer thread holds a reference until it ends, so this runs once it has stopped.
        uv_cond_destroy(batchWritten)
        uv_cond_destroy(wake)
        uv_mutex_destroy(mutex)
        batchWritten.deallocate()
        wake.deallocate()
        mutex.deallocate()
    }

    /// Queues `line` (which should end with a newline) for writing; `false` when it was dropped
    /// because the buffer is full or the writer stopped.
    @discardableResult
    public func append(_ line: String) -> Bool {
        var line = line
        return line.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Queues `bytes`; `false` when they were dropped.
    @discardableResult
    public func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        uv_mutex_lock(mutex)
        if !hasThread && !stopping {
            // No writer thread could be started: write here, one line at a time.
            writeAll(bytes)
            uv_mutex_unlock(mutex)
            return true
        }
        guard !stopping, pending.count + bytes.count <= capacity else {
            droppedSinceReport += 1
            droppedTotal += 1
            uv_mutex_unlock(mutex)
            return false
        }
        pending.append(contentsOf: bytes)
        appendedLines += 1
        let wakeWriter = writerIsWaiting
        writerIsWaiting = false
        uv_mutex_unlock(mutex)
        // Only an idle writer is woken: one busy writing takes these bytes with its next batch.
        if wakeWriter { uv_cond_signal(wake) }
        return true
    }

    /// Lines dropped since the writer started because it had fallen behind.
    public var droppedLines: Int {
        uv_mutex_lock(mutex)
        defer { uv_mutex_unlock(mutex) }
        return droppedTotal
    }

    /// Returns once every line appended before the call has been written (or the writer stopped).
    public func flush() {
        uv_mutex_lock(mutex)
        let target = appendedLines
        flushers += 1
        uv_cond_signal(wake)
        while hasThread && writtenLines < target && !stopped {
            uv_cond_wait(batchWritten, mutex)
        }
        flushers -= 1
        uv_mutex_unlock(mutex)
    }

    /// Writes what is queued, then ends the writer thread; later lines are dropped.
    public func stop() {
        uv_mutex_lock(mutex)
        let alreadyStopping = stopping
        stopping = true
        uv_cond_signal(wake)
        uv_mutex_unlock(mutex)
        guard !alreadyStopping else { return }
        Self.live.withLock { _ = $0.writers.removeValue(forKey: ObjectIdentifier(self)) }
        uv_mutex_lock(mutex)
        let joinable = hasThread
        var writerThread = thread
        uv_mutex_unlock(mutex)
        if joinable { uv_thread_join(&writerThread) }
    }

    private func runWriter() {
        uv_mutex_lock(mutex)
        while true {
            while pending.isEmpty && droppedSinceReport == 0 && !stopping {
                writerIsWaiting = true
                uv_cond_wait(wake, mutex)
            }
            writerIsWaiting = false
            if pending.isEmpty && droppedSinceReport == 0 && stopping { break }
            swap(&pending, &spare)
            let upTo = appendedLines
            let dropped = droppedSinceReport
            droppedSinceReport = 0
            uv_mutex_unlock(mutex)

            if dropped > 0 {
                spare.append(contentsOf: "loopwork: \(dropped) log lines dropped: the log writer fell behind\n".utf8)
            }
            writeAll(spare)
            spare.removeAll(keepingCapacity: true)

            uv_mutex_lock(mutex)
            writtenLines = upTo
            uv_cond_broadcast(batchWritten)
            if flushers == 0 && !stopping && batchInterval > .zero {
                uv_mutex_unlock(mutex)
                // Lines arriving meanwhile join the next batch instead of waking the writer each.
                let nanoseconds =
                    batchInterval.components.seconds * 1_000_000_000
                    + batchInterval.components.attoseconds / 1_000_000_000
                uv_sleep(UInt32(max(1, nanoseconds / 1_000_000)))
                uv_mutex_lock(mutex)
            }
        }
        stopped = true
        uv_cond_broadcast(batchWritten)
        uv_mutex_unlock(mutex)
    }

    /// Writes every byte, retrying after interruptions and waiting while a non-blocking
    /// descriptor is full; gives up on any other error (a closed pipe): logs must never stop
    /// the program.
    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeAll($0) }
    }

    private func writeAll(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let written = write(descriptor, base + offset, buffer.count - offset)
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                var waiter = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&waiter, 1, 100)
            } else {
                return
            }
        }
    }
}
