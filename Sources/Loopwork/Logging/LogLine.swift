import LoopworkUV

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of one log line as it is formatted: in a buffer on the logging thread's stack while
/// they fit, moved to the heap when a line outgrows it, so a usual line costs no allocation.
/// Bytes rather than a String: appending to a String checks and updates its UTF-8 flags on every
/// piece, and the writer wants bytes anyway.
struct LogLine: ~Copyable {
    /// Room for an access-log line with a few metadata values.
    static let stackCapacity = 1024

    private let stack: UnsafeMutableBufferPointer<UInt8>
    private var count = 0
    private var heap: [UInt8] = []
    private var spilled = false

    /// Runs `body` with an empty line whose buffer lives for the call.
    static func withStackBuffer(_ body: (inout LogLine) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: stackCapacity) { buffer in
            var line = LogLine(stack: buffer)
            body(&line)
        }
    }

    private init(stack: UnsafeMutableBufferPointer<UInt8>) {
        self.stack = stack
    }

    mutating func append(_ byte: UInt8) {
        // A line's separators are single bytes: store them without the general path's copy.
        if !spilled, count < stack.count {
            stack[count] = byte
            count += 1
        } else {
            withUnsafePointer(to: byte) { append(UnsafeBufferPointer(start: $0, count: 1)) }
        }
    }

    mutating func append(_ text: String) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { append($0) }
        if copied == nil { Array(text.utf8).withUnsafeBufferPointer { append($0) } }
    }

    /// Appends `value` in decimal, as `String(value)` would write it, without making the String.
    mutating func append(decimal value: Int) {
        // An Int's magnitude has at most 19 digits (20 for UInt64); the sign goes before them.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var magnitude = value.magnitude
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 { append(UInt8(ascii: "-")) }
            append(UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    // Inlined: a line is a score of short pieces, and the call cost more than the copy.
    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        // An empty piece (an empty value) may have no base address; it must not spill the line.
        guard !bytes.isEmpty else { return }
        if !spilled, bytes.count <= stack.count - count, let source = bytes.baseAddress,
            let target = stack.baseAddress
        {
            (target + count).update(from: source, count: bytes.count)
            count += bytes.count
            return
        }
        if !spilled {
            spilled = true
            heap.reserveCapacity(2 * (count + bytes.count))
            heap.append(contentsOf: stack[..<count])
        }
        heap.append(contentsOf: bytes)
    }

    /// The line's bytes, for the duration of `body`.
    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        spilled
            ? heap.withUnsafeBytes(body)
            : body(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: stack[..<count])))
    }
}

/// The local time, to the second, as `2026-12-02T03:09:16+0000`: formatted once a second, not per line.
enum LogTimestamp {
    private static let cache = Locked<(second: time_t, text: [UInt8])>((-1, []))

    /// Appends the current second's timestamp.
    static func append(to line: inout LogLine) {
        let now = time(nil)
        cache.withLock { cache in
            if cache.second != now {
                cache = (now, format(now))
            }
            cache.text.withUnsafeBufferPointer { line.append($0) }
        }
    }

    private static func format(_ seconds: time_t) -> [UInt8] {
        var seconds = seconds
        var parts = tm()
        guard localtime_r(&seconds, &parts) != nil else { return Array("<unknown>".utf8) }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return buffer[..<count].map { UInt8(bitPattern: $0) }
    }
}
