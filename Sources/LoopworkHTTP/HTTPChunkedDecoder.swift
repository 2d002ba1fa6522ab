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
        case sizeFirstDigit, size, whitespace, chunkExtension, sizeLF, data, dataCR, dataLF
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
                    guard size <= (Int.max >> 4) else { throw .badRequest("chunk size overflow") }
                    size = size &<< 4 | digit
                    if size > limits.maxBodySize &- total {
                        throw HTTPParseError(status: .contentTooLarge, reason: "body larger than allowed")
                    }
                    step = .size
                } else if step == .sizeFirstDigit {
                    throw .badRequest("invalid chunk size")
                } else if byte == ByteClass.cr {
                    step = .sizeLF
                } else if byte == 0x3B {
                    try countExtensionByte(limits)
                    step = .chunkExtension
                } else if byte == ByteClass.sp || byte == ByteClass.htab {
                    try countExtensionByte(limits)
                    step = .whitespace
                } else {
                    throw .badRequest("invalid chunk size")
                }
            case .whitespace:
                try countExtensionByte(limits)
                if byte == 0x3B {
                    step = .chunkExtension
                } else if byte != ByteClass.sp && byte != ByteClass.htab {
                    throw .badRequest("invalid chunk extension")
                }
            case .chunkExtension:
                if byte == ByteClass.cr {
                    step = .sizeLF
                } else {
                    guard ByteClass.isFieldValue(byte) else { throw .badRequest("invalid chunk extension") }
                    try countExtensionByte(limits)
                }
            case .sizeLF:
                guard byte == ByteClass.lf else { throw .badRequest("chunk size line not terminated by CRLF") }
                extensionLength = 0
                if size == 0 {
                    step = .sizeFirstDigit
                    total = 0
                    return .lastChunk(next: index)
                }
                total &+= size
                step = .data
            case .dataCR:
                guard byte == ByteClass.cr else { throw .badRequest("chunk data not followed by CRLF") }
                step = .dataLF
            case .dataLF:
                guard byte == ByteClass.lf else { throw .badRequest("chunk data not followed by CRLF") }
                step = .sizeFirstDigit
            case .data:
                break
            }
        }
        return .needMore
    }

    @inline(__always)
    private mutating func countExtensionByte(_ limits: HTTPParserLimits) throws(HTTPParseError) {
        extensionLength &+= 1
        if extensionLength > limits.maxChunkExtensionLength { throw .badRequest("chunk extension too long") }
    }
}
