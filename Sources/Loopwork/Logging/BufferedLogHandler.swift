public import Logging
import LoopworkUV

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
        let explicit = event.metadata ?? [:]
        write(
            level: event.level, source: event.source, error: event.error, explicitCount: explicit.count,
            explicit: { add in
                for (key, value) in explicit { add(key, value) }
            },
            message: { $0.append(event.message.description) })
    }

    /// The line `RequestLoggingMiddleware` logs, byte for byte as ``log(event:)`` writes it for the
    /// message `METHOD PATH STATUS` and the metadata `request-id` and `duration-us`, without the
    /// message string, metadata dictionary and event swift-log would build for it first: those
    /// were both of the line's allocations and about a third of its CPU time on the loop.
    func logRequest(
        level: Logger.Level, method: String, path: String, status: Int, requestID: String, durationMicros: Int,
        source: String
    ) {
        guard metadata.isEmpty, metadataProvider == nil else {
            write(
                level: level, source: source, error: nil, explicitCount: 2,
                explicit: { add in
                    add("request-id", .string(requestID))
                    add("duration-us", .string(String(durationMicros)))
                },
                message: { line in appendRequest(to: &line, method: method, path: path, status: status) })
            return
        }
        // The usual case, with the line's own two keys the only metadata: they are written in
        // their sorted order straight away, without the entries, sort and copies of the merge.
        LogLine.withStackBuffer { line in
            appendPrefix(to: &line, level: level)
            line.append(" duration-us=")
            line.append(decimal: durationMicros)
            line.append(" request-id=")
            line.append(requestID)
            appendSource(to: &line, source)
            appendRequest(to: &line, method: method, path: path, status: status)
            finish(&line)
        }
    }

    private func appendRequest(to line: inout LogLine, method: String, path: String, status: Int) {
        line.append(method)
        line.append(UInt8(ascii: " "))
        line.append(path)
        line.append(UInt8(ascii: " "))
        line.append(decimal: status)
    }

    /// Formats one line and hands it to the writer; `explicit` adds the event's own metadata
    /// (`explicitCount` entries), `message` appends the message.
    private func write(
        level: Logger.Level, source: String, error: (any Error)?, explicitCount: Int,
        explicit: ((String, Logger.MetadataValue) -> Void) -> Void, message: (inout LogLine) -> Void
    ) {
        LogLine.withStackBuffer { line in
            appendPrefix(to: &line, level: level)
            appendMetadata(to: &line, error: error, explicitCount: explicitCount, explicit: explicit)
            appendSource(to: &line, source)
            message(&line)
            finish(&line)
        }
    }

    /// `TIMESTAMP LEVEL LABEL:`, what every line starts with.
    private func appendPrefix(to line: inout LogLine, level: Logger.Level) {
        LogTimestamp.append(to: &line)
        line.append(UInt8(ascii: " "))
        line.append(level.rawValue)
        if !label.isEmpty {
            line.append(UInt8(ascii: " "))
            line.append(label)
        }
        line.append(UInt8(ascii: ":"))
    }

    private func appendSource(to line: inout LogLine, _ source: String) {
        line.append(" [")
        line.append(source)
        line.append("] ")
    }

    private func finish(_ line: inout LogLine) {
        line.append(UInt8(ascii: "\n"))
        line.withBytes { _ = writer.append($0) }
    }

    /// ` key=value` for every key, sorted, a key from the event winning over the provider's and
    /// the provider's over the logger's, as `StreamLogHandler` merges them; written straight
    /// into the line rather than through a merged dictionary and joined strings.
    private func appendMetadata(
        to line: inout LogLine, error: (any Error)?, explicitCount: Int,
        explicit: ((String, Logger.MetadataValue) -> Void) -> Void
    ) {
        let provided = metadataProvider?.get() ?? [:]
        let count = metadata.count + provided.count + explicitCount + (error == nil ? 0 : 2)
        guard count > 0 else { return }
        // On the stack: the few entries of a line should not cost an allocation.
        withUnsafeTemporaryAllocation(of: MetadataEntry.self, capacity: count) { buffer in
            guard let base = buffer.baseAddress else { return }
            var filled = 0
            func add(_ key: String, _ rank: Int, _ value: Logger.MetadataValue) {
                // `explicitCount` is the count of what `explicit` adds, never input: a mismatch is
                // a programming error, stopped before it writes past the buffer.
                precondition(filled < count, "more metadata entries than counted")
                (base + filled).initialize(to: MetadataEntry(key: key, rank: rank, value: value))
                filled += 1
            }
            if let error {
                add("error.message", 0, .string("\(error)"))
                add("error.type", 0, .string(String(reflecting: type(of: error))))
            }
            explicit { key, value in add(key, 1, value) }
            for (key, value) in provided { add(key, 2, value) }
            for (key, value) in metadata { add(key, 3, value) }
            var entries = UnsafeMutableBufferPointer(start: base, count: filled)
            defer { entries.deinitialize() }
            entries.sort { $0.key != $1.key ? $0.key < $1.key : $0.rank < $1.rank }
            var previous: String?
            for entry in entries where entry.key != previous {
                previous = entry.key
                line.append(UInt8(ascii: " "))
                line.append(entry.key)
                line.append(UInt8(ascii: "="))
                line.append(entry.value.description)
            }
        }
    }
}

/// One metadata value of a line with where it came from: of two with the same key, the lower
/// `rank` is written (the event's error, then the event, the provider, the logger).
private struct MetadataEntry {
    let key: String
    let rank: Int
    let value: Logger.MetadataValue
}
