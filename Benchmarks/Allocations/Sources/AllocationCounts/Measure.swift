import MallocInterposerSwift

#if canImport(Glibc)
    import Glibc
#endif

/// Allocations per request of one scenario.
struct Measurement {
    var mallocs: Double
    var bytes: Double
    /// Batches that could be used (see ``measure(batches:batchSize:_:)``) out of all.
    var cleanBatches: Int
    var batches: Int
    /// Largest minus smallest allocation count of the clean batches, per request: 0 when every
    /// batch counted the same.
    var spread: Double
    /// Every batch's count, `nil` where the batch was not clean (for `--verbose`).
    var batchCounts: [Int?] = []

    static func - (lhs: Measurement, rhs: Measurement) -> Measurement {
        Measurement(
            mallocs: lhs.mallocs - rhs.mallocs, bytes: lhs.bytes - rhs.bytes,
            cleanBatches: min(lhs.cleanBatches, rhs.cleanBatches), batches: min(lhs.batches, rhs.batches),
            spread: lhs.spread + rhs.spread, batchCounts: lhs.batchCounts)
    }

    static func / (lhs: Measurement, rhs: Double) -> Measurement {
        Measurement(
            mallocs: lhs.mallocs / rhs, bytes: lhs.bytes / rhs, cleanBatches: lhs.cleanBatches,
            batches: lhs.batches, spread: lhs.spread / rhs)
    }
}

/// Runs `batches × batchSize` requests with every allocation of the process counted and returns
/// the median per request over the clean batches.
///
/// Counting runs throughout; the totals are read between batches. Two things allocate by the
/// clock rather than per request, so a plain total would grow on a slower machine: the `Date`
/// cache formats a new string on the first response of each second, and the worker's 250 ms
/// timeout sweep allocates when it runs. A batch is clean when the wall-clock second at the start
/// of the batch before it equals the second at its own end (the batch before counts because its
/// last response may have read the clock just before a new second began); only clean batches are
/// kept, which rules out the `Date` string. The median then passes over the few batches a sweep
/// fell into. What a request allocates after its response has reached the client (a task's
/// teardown, say) lands in the next batch; in the steady state each batch gains one such tail
/// and loses one, so it still counts once.
func measure(batches: Int, batchSize: Int, _ request: (Int) -> Void) -> Measurement {
    precondition(batches >= 2 && batchSize >= 1)
    // Reserved before counting starts: recording a batch must not allocate.
    let mallocs = UnsafeMutableBufferPointer<Int>.allocate(capacity: batches)
    let bytes = UnsafeMutableBufferPointer<Int>.allocate(capacity: batches)
    let seconds = UnsafeMutableBufferPointer<Int>.allocate(capacity: batches + 1)
    defer {
        mallocs.deallocate()
        bytes.deallocate()
        seconds.deallocate()
    }

    MallocInterposerSwift.reset()
    MallocInterposerSwift.hook()
    var previous = MallocInterposerSwift.getStatistics()
    seconds[0] = time(nil)
    var index = 0
    for batch in 0..<batches {
        for _ in 0..<batchSize {
            request(index)
            index += 1
        }
        let now = MallocInterposerSwift.getStatistics()
        seconds[batch + 1] = time(nil)
        mallocs[batch] = now.mallocCount - previous.mallocCount
        bytes[batch] = now.mallocBytesCount - previous.mallocBytesCount
        previous = now
    }
    MallocInterposerSwift.unhook()

    var batchCounts: [Int?] = []
    var cleanMallocs: [Int] = []
    var cleanBytes: [Int] = []
    for batch in 0..<batches {
        guard batch > 0, seconds[batch - 1] == seconds[batch + 1] else {
            batchCounts.append(nil)
            continue
        }
        batchCounts.append(mallocs[batch])
        cleanMallocs.append(mallocs[batch])
        cleanBytes.append(bytes[batch])
    }
    guard !cleanMallocs.isEmpty else {
        fatalError("no batch stayed within one second of the clock: use smaller batches")
    }
    cleanMallocs.sort()
    cleanBytes.sort()
    let perRequest = Double(batchSize)
    return Measurement(
        mallocs: Double(cleanMallocs[cleanMallocs.count / 2]) / perRequest,
        bytes: Double(cleanBytes[cleanBytes.count / 2]) / perRequest,
        cleanBatches: cleanMallocs.count, batches: batches,
        spread: Double(cleanMallocs.last! - cleanMallocs.first!) / perRequest,
        batchCounts: batchCounts)
}

/// Fails unless malloc-interposer really counts this process's allocations: linked but not
/// loaded first, it would report zero for everything and every check would pass.
func checkInterposerIsActive() {
    MallocInterposerSwift.reset()
    MallocInterposerSwift.hook()
    let block = UnsafeMutableRawPointer.allocate(byteCount: 100, alignment: 8)
    block.deallocate()
    MallocInterposerSwift.unhook()
    let statistics = MallocInterposerSwift.getStatistics()
    guard statistics.mallocCount >= 1, statistics.mallocBytesCount >= 100 else {
        fatalError(
            "malloc-interposer counts nothing: libMallocInterposerSwift.so must come before libc (ldd), or be in LD_PRELOAD"
        )
    }
}
