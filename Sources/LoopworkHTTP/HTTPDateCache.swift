#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Caches the IMF-fixdate `Date` field value, reformatting it at most once a second.
///
/// Every response carries a Date; formatting it per response would cost more than the rest of a small head.
// @unchecked: the only mutable state (`second`, `value`) is read and written with `mutex` held, and the mutex
// itself is heap-allocated so its address never moves.
public final class HTTPDateCache: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var second: Int = -1
    private var value = ""

    /// Creates a cache; the first read formats the current time.
    public init() {
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// The current time as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`; safe from any thread.
    public var current: String {
        let now = Int(time(nil))
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if now != second {
            second = now
            value = Self.format(now)
        }
        return value
    }

    /// Formats seconds since the epoch as an IMF-fixdate (RFC 9110 §5.6.7).
    package static func format(_ seconds: Int) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let day = days[Int(parts.tm_wday) % 7]
        let month = months[Int(parts.tm_mon) % 12]
        let year = Int(parts.tm_year) + 1900
        return
            "\(day), \(two(parts.tm_mday)) \(month) \(year) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
