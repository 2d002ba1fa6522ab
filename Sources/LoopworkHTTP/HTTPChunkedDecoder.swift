import HTTPTypes

/// Decodes the chunked transfer coding (RFC 9112 §7.1) up to the last chunk, byte by byte across calls.
struct HTTPChunkedDecoder {
    enum Output {
        /// Body bytes at `start..<end` of the input.
        case data(start: Int, end: Int)
        /// The last chunk's size line ended; trailers start at input index `next`.
        case lastChunk(next: Int)
        /// The input is used up.
        case needMore
    }

    private enum Step {
        case sizeFirstDigit, size
        /// Extension states, one per position in `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )`.
        case extensionSpace, extensionNameStart, extensionName, extensionNameSpace, extensionValueStart
        case extensionToken, extensionQuoted, extensionQuotedPair, extensionQuotedEnd
        case sizeLF, data, dataCR, dataLF
    }

    private var step = Step.sizeFirstDigit
    private var size = 0
    private var extensionLength = 0
    private var total = 0

    /// Advances over `input[from...]` until it has something to report.
    mutating func advance(
        _ input: UnsafeRawBufferPointer, from: Int, limits: HTTPParserLimits
    ) throws(HTTPParseError) -> Output {
        var index = from
        let end = input.count
        while index < end {
            if step == .data {
                let count = min(size, end &- index)
                size &-= count
                if size == 0 { step = .dataCR }
                return .data(start: index, end: index &+ count)
            }
            let byte = input[index]
            index &+= 1
            switch step {
            case .sizeFirstDigit, .size:
                if let digit = ByteClass.hexValue(byte) {
                    guard size <= (Int.max >> 4) else { throw HTTPParseError(.chunkSizeOverflow) }
                    size = size &<< 4 | Int(digit)
                    if size > limits.maxBodySize &- total {
                        throw HTTPParseError(.bodyTooLarge)
                    }
                    step = .size
                } else if step == .sizeFirstDigit {
                    throw HTTPParseError(.invalidChunkSize)
                } else if byte == ByteClass.cr {
                    step = .sizeLF
                } else if byte == ByteClass.semicolon {
                    try countExtensionByte(limits)
                    step = .extensionNameStart
                } else if byte == ByteClass.sp || byte == ByteClass.htab {
                    try countExtensionByte(limits)
                    step = .extensionSpace
                } else {
                    throw HTTPParseError(.invalidChunkSize)
                }
            case .extensionSpace, .extensionNameStart, .extensionName, .extensionNameSpace, .extensionValueStart,
                .extensionToken, .extensionQuoted, .extensionQuotedPair, .extensionQuotedEnd:
                try advanceExtension(byte, limits)
            case .sizeLF:
                guard byte == ByteClass.lf else { throw HTTPParseError(.chunkSizeLineNotTerminatedByCRLF) }
                extensionLength = 0
                if size == 0 {
                    step = .sizeFirstDigit
                    total = 0
                    return .lastChunk(next: index)
                }
                total &+= size
                step = .data
            case .dataCR:
                guard byte == ByteClass.cr else { throw HTTPParseError(.chunkDataNotFollowedByCRLF) }
                step = .dataLF
            case .dataLF:
                guard byte == ByteClass.lf else { throw HTTPParseError(.chunkDataNotFollowedByCRLF) }
                step = .sizeFirstDigit
            case .data:
                break
            }
        }
        return .needMore
    }

    /// One byte of a chunk extension. The grammar is enforced exactly, not skipped to CR: an unclosed quoted
    /// string, an empty name or a stray byte is where two parsers stop agreeing on where the chunk data starts.
    private mutating func advanceExtension(_ byte: UInt8, _ limits: HTTPParserLimits) throws(HTTPParseError) {
        let isSpace = byte == ByteClass.sp || byte == ByteClass.htab
        if byte == ByteClass.cr {
            // The line ends only after a whole name or value; BWS is allowed before ";" and "=", not at the end.
            guard step == .extensionName || step == .extensionToken || step == .extensionQuotedEnd else {
                throw HTTPParseError(.invalidChunkExtension)
            }
            step = .sizeLF
            return
        }
        try countExtensionByte(limits)
        switch step {
        case .extensionNameStart:
            if ByteClass.isToken(byte) {
                step = .extensionName
            } else if !isSpace {
                throw HTTPParseError(.invalidChunkExtension)
            }
        case .extensionName, .extensionNameSpace:
            if byte == ByteClass.equals {
                step = .extensionValueStart
            } else {
                try afterWord(byte, isSpace: isSpace, space: .extensionNameSpace, inWord: step == .extensionName)
            }
        case .extensionValueStart:
            if ByteClass.isToken(byte) {
                step = .extensionToken
            } else if byte == ByteClass.dquote {
                step = .extensionQuoted
            } else if !isSpace {
                throw HTTPParseError(.invalidChunkExtension)
            }
        case .extensionToken, .extensionQuotedEnd, .extensionSpace:
            try afterWord(byte, isSpace: isSpace, space: .extensionSpace, inWord: step == .extensionToken)
        case .extensionQuoted:
            // qdtext is a field-value byte other than DQUOTE and backslash (RFC 9110 §5.6.4).
            if byte == ByteClass.dquote {
                step = .extensionQuotedEnd
            } else if byte == ByteClass.backslash {
                step = .extensionQuotedPair
            } else if !ByteClass.isFieldValue(byte) {
                throw HTTPParseError(.invalidChunkExtension)
            }
        case .extensionQuotedPair:
            guard ByteClass.isFieldValue(byte) else { throw HTTPParseError(.invalidChunkExtension) }
            step = .extensionQuoted
        case .sizeFirstDigit, .size, .sizeLF, .data, .dataCR, .dataLF:
            break
        }
    }

    /// A byte after a name or a value, or after the BWS behind one: ";" starts the next name and BWS moves
    /// to `space`. A token byte continues the word only `inWord` (not after BWS, nor after a closing quote);
    /// any other byte breaks the grammar.
    @inline(__always)
    private mutating func afterWord(_ byte: UInt8, isSpace: Bool, space: Step, inWord: Bool) throws(HTTPParseError) {
        if byte == ByteClass.semicolon {
            step = .extensionNameStart
        } else if isSpace {
            step = space
        } else if !inWord || !ByteClass.isToken(byte) {
            throw HTTPParseError(.invalidChunkExtension)
        }
    }

    @inline(__always)
    private mutating func countExtensionByte(_ limits: HTTPParserLimits) throws(HTTPParseError) {
        extensionLength &+= 1
        if extensionLength > limits.maxChunkExtensionLength { throw HTTPParseError(.chunkExtensionTooLong) }
    }
}
