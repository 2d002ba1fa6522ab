import HTTPTypes

/// Finds the end of a head or trailer section across calls, holding at most one section's bytes.
///
/// A section that arrives whole in one input is never copied: the scanner reports its bounds in the input.
/// Otherwise the bytes received so far are kept, bounded by the request-line and field-section limits.
struct HTTPSectionScanner {
    /// Where a complete section is.
    enum Completion {
        /// In the input, `start..<end`.
        case inInput(start: Int, end: Int)
        /// In ``buffer`` (the tail up to input index `end` has been appended).
        case buffered(end: Int)
    }

    private(set) var buffer: [UInt8] = []
    /// Section offset of the first byte of the line being received.
    private var lineStart = 0
    /// Whether the request line is behind (always true for trailers).
    private var firstLineDone: Bool
    /// Section offset of the first field line.
    private var fieldsStart = 0
    private let isHead: Bool

    init(isHead: Bool) {
        self.isHead = isHead
        self.firstLineDone = !isHead
    }

    var isEmpty: Bool { buffer.isEmpty }

    /// Scans `input[from...]` for the empty line ending the section; nil means all of it was consumed and kept.
    mutating func scan(
        _ input: UnsafeRawBufferPointer, from: Int, limits: HTTPParserLimits
    ) throws(HTTPParseError) -> Completion? {
        var start = from
        var index = from
        let end = input.count
        while true {
            // Section offset of input index `i` is `base + i`.
            let base = buffer.count &- start
            guard let lf = input.firstLF(from: index, end: end) else {
                try checkPartial(total: base &+ end, limits: limits)
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[start..<end]))
                return nil
            }
            let lfOffset = base &+ lf
            let lineLength = lfOffset &- lineStart
            // The same bound as for a partial line comes first, so the error does not depend on how input was split.
            try checkPartial(total: lfOffset, limits: limits)
            let before: UInt8? = lineLength == 0 ? nil : (lf > start ? input[lf &- 1] : buffer.last)
            guard before == ByteClass.cr else { throw HTTPParseError(.lineNotTerminatedByCRLF) }
            let contentLength = lineLength &- 1
            index = lf &+ 1
            if !firstLineDone {
                if contentLength == 0 {
                    // RFC 9112 §2.2: ignore empty lines before the request line.
                    buffer.removeAll(keepingCapacity: true)
                    start = index
                    lineStart = 0
                    continue
                }
                if contentLength > limits.maxRequestLineLength {
                    throw HTTPParseError(.requestLineTooLong)
                }
                firstLineDone = true
                fieldsStart = lfOffset &+ 1
                lineStart = fieldsStart
            } else if contentLength == 0 {
                if lineStart &- fieldsStart > limits.maxHeaderSectionSize {
                    throw HTTPParseError(.headerSectionTooLarge)
                }
                if buffer.isEmpty {
                    reset()
                    return .inInput(start: start, end: index)
                }
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[start..<index]))
                return .buffered(end: index)
            } else {
                lineStart = lfOffset &+ 1
                if lineStart &- fieldsStart > limits.maxHeaderSectionSize {
                    throw HTTPParseError(.headerSectionTooLarge)
                }
            }
        }
    }

    /// Forgets the section after it was decoded; a small buffer keeps its capacity for the next message.
    mutating func reset() {
        if buffer.capacity > 4096 {
            buffer = []
        } else {
            buffer.removeAll(keepingCapacity: true)
        }
        lineStart = 0
        fieldsStart = 0
        firstLineDone = !isHead
    }

    private func checkPartial(total: Int, limits: HTTPParserLimits) throws(HTTPParseError) {
        if !firstLineDone {
            // One byte of slack for the CR of a line that is exactly at the limit.
            if total &- lineStart > limits.maxRequestLineLength &+ 1 {
                throw HTTPParseError(.requestLineTooLong)
            }
        } else if total &- fieldsStart > limits.maxHeaderSectionSize &+ 1 {
            throw HTTPParseError(.headerSectionTooLarge)
        }
    }
}
