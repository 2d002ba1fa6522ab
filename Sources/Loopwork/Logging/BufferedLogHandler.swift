public import Logging
import LoopworkUV

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A swift-log handler for servers: lines are formatted on the logging thread (an event loop, say)
/// and written by a writer thread in batches, so a log line costs a copy, not a system call.
///
/// Lines look like `StreamLogHandler`'s: `2026-12-02T03:09:16+0000 info label: key=value [Source] message`.
/// What the writer does when it falls behind: the lines waiting are bounded (1 MiB); lines that
/// do not fit are dropped and counted (``droppedLines``), and the output says
/// `loopwork: N log lines dropped: the log writer fell behind` once the writer catches up, so a
/// log flood neither blocks a loop nor grows memory. A running app flushes the writers when it
/// stops, and the process flushes them when it exits normally; ``flush()`` does it on demand.
///
/// ```swift
/// LoggingSystem.bootstrap { label in BufferedLogHandler.standardError(label: label) }
/// ```
public struct BufferedLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    /// Kept as given: a request's logger sets `request-id` on every request, so nothing is
    /// formatted until a line is written.
    public var metadata: Logger.Metadata = [:]

    private let label: String
    private let writer: LineWriter

    init(label: String, writer: LineWriter, metadataProvider: Logger.MetadataProvider?) {
        self.label = label
        self.writer = writer
        self.metadataProvider = metadataProvider
    }

    /// A handler writing to standard error.
    public static func standardError(
        label: String,
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider
    ) -> Self {
        Self(label: label, writer: .standardError, metadataProvider: metadataProvider)
    }

    /// A handler writing to standard output.
    public static func standardOutput(
        label: String,
        metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider
    ) -> Self {
        Self(label: label, writer: .standardOutput, metadataProvider: metadataProvider)
    }

    /// Returns once every line logged before the call has been written.
    public static func flush() { LineWriter.flushAll() }

    /// Lines dropped because the writer had fallen behind (standard output and error together).
    public static var droppedLines: Int {
        LineWriter.standardOutput.droppedLines + LineWriter.standardError.droppedLines
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // Built as bytes, not a String: appending to a String checks and updates its UTF-8
        // flags on every piece, and the writer wants bytes anyway.
        let message = event.message.description
        var line: [UInt8] = []
        line.reserveCapacity(LogTimestamp.length + label.utf8.count + message.utf8.count + 128)
        LogTimestamp.append(to: &line)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: event.level.rawValue.utf8)
        if !label.isEmpty {
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: label.utf8)
        }
        line.append(UInt8(ascii: ":"))
        appendMetadata(to: &line, event: event)
        line.append(contentsOf: " [".utf8)
        line.append(contentsOf: event.source.utf8)
        line.append(contentsOf: "] ".utf8)
        line.append(contentsOf: message.utf8)
        line.append(UInt8(ascii: "\n"))
        _ = line.withUnsafeBytes { writer.append($0) }
    }

    /// ` key=value` for every key, sorted, a key from the event winning over the provider's and
    /// the provider's over the logger's, as `StreamLogHandler` merges them; written straight
    /// into the line rather than through a merged dictionary and joined strings.
    private func appendMetadata(to line: inout [UInt8], event: LogEvent) {
        let provided = metadataProvider?.get() ?? [:]
        let explicit = event.metadata ?? [:]
        var keys = Array(metadata.keys)
        if !provided.isEmpty { keys.append(contentsOf: provided.keys) }
        if !explicit.isEmpty { keys.append(contentsOf: explicit.keys) }
        if event.error != nil { keys.append(contentsOf: ["error.message", "error.type"]) }
        guard !keys.isEmpty else { return }
        keys.sort()
        var previous: String?
        for key in keys where key != previous {
            previous = key
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: key.utf8)
            line.append(UInt8(ascii: "="))
            if let error = event.error, key == "error.message" {
                line.append(contentsOf: "\(error)".utf8)
            } else if let error = event.error, key == "error.type" {
                line.append(contentsOf: String(reflecting: type(of: error)).utf8)
            } else if let value = explicit[key] ?? provided[key] ?? metadata[key] {
                line.append(contentsOf: value.description.utf8)
            }
        }
    }
}

/// The local time, to the second, as `2026-12-02T03:09:16+0000`: formatted once a second, not per line.
enum LogTimestamp {
    private static let cache = Locked<(second: time_t, text: [UInt8])>((-1, []))

    /// The usual length of a timestamp, for reserving a line's capacity.
    static let length = 24

    /// Appends the current second's timestamp.
    static func append(to line: inout [UInt8]) {
        let now = time(nil)
        cache.withLock { cache in
            if cache.second != now {
                cache = (now, format(now))
            }
            line.append(contentsOf: cache.text)
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
