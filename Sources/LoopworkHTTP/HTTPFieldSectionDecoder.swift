import HTTPTypes

/// Decodes complete field lines (a head's fields or trailers) in place, building each name and value once.
///
/// The section scanner has already checked that every LF is preceded by CR and that the section ends with an
/// empty line, so every byte loop here stops at a CR inside the buffer.
struct HTTPFieldSectionDecoder {
    var fields = HTTPFields()
    var count = 0
    var hostCount = 0
    var host: String?
    var contentLength: Int?
    var contentLengthTooLarge = false
    /// The digits of a Content-Length too large for an Int, to compare a repeated field with.
    private var contentLengthDigits: [UInt8]?
    var hasTransferEncoding = false
    var chunkedSeen = false
    var unknownCoding = false
    var connectionClose = false
    var connectionKeepAlive = false
    var expectContinue = false
    var expectOther = false
    var upgrade: String?

    /// Decodes the field lines in `bytes[start..<end]`, where `end` is the index of the final CR of the empty line.
    mutating func decode(
        _ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, limits: HTTPParserLimits, interpret: Bool
    ) throws(HTTPParseError) {
        let names = KnownFieldNames.shared
        // HTTPFields traps at UInt16.max fields; the section size usually bounds this far below.
        let maxCount = min(limits.maxFieldCount, 60_000)
        var index = start
        while index < end {
            let nameStart = index
            while ByteClass.isToken(bytes[index]) { index &+= 1 }
            let stop = bytes[index]
            guard stop == ByteClass.colon, index > nameStart else {
                throw Self.nameError(stop, atStart: index == nameStart)
            }
            let nameEnd = index
            index &+= 1
            while bytes[index] == ByteClass.sp || bytes[index] == ByteClass.htab { index &+= 1 }
            let valueStart = index
            var highBits = ByteClass.skipFieldValueWords(bytes, from: &index, limit: end &+ 2)
            while ByteClass.isFieldValue(bytes[index]) {
                highBits |= bytes[index]
                index &+= 1
            }
            guard bytes[index] == ByteClass.cr, bytes[index &+ 1] == ByteClass.lf else {
                throw bytes[index] == ByteClass.cr
                    ? HTTPParseError(.bareCRInFieldValue) : HTTPParseError(.invalidFieldValueCharacter)
            }
            var valueEnd = index
            while valueEnd > valueStart, bytes[valueEnd &- 1] == ByteClass.sp || bytes[valueEnd &- 1] == ByteClass.htab
            {
                valueEnd &-= 1
            }
            index &+= 2
            count &+= 1
            if count > maxCount {
                throw HTTPParseError(.tooManyFields)
            }
            let (name, special) = names.lookup(bytes, offset: nameStart, count: nameEnd &- nameStart)
            let valueBytes = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            // ASCII values go through String(decoding:), which is much cheaper than HTTPTypes' generic byte path;
            // obs-text keeps its raw bytes (not valid UTF-8 in general) through the byte initializer.
            let field =
                highBits & ByteClass.highBit == 0
                ? HTTPField(name: name, value: String(decoding: valueBytes, as: UTF8.self))
                : HTTPField(name: name, value: valueBytes)
            if interpret && special != .none {
                try interpretField(
                    special, field: field, bytes: bytes, start: valueStart, end: valueEnd, limits: limits)
            }
            fields.append(field)
        }
    }

    private static func nameError(_ stop: UInt8, atStart: Bool) -> HTTPParseError {
        if stop == ByteClass.sp || stop == ByteClass.htab {
            return HTTPParseError(atStart ? .obsoleteLineFolding : .whitespaceBeforeColon)
        }
        if stop == ByteClass.colon { return HTTPParseError(.emptyFieldName) }
        if stop == ByteClass.cr { return HTTPParseError(.fieldLineWithoutColon) }
        return HTTPParseError(.invalidFieldNameCharacter)
    }

    private mutating func interpretField(
        _ special: SpecialField, field: HTTPField, bytes: UnsafeRawBufferPointer, start: Int, end: Int,
        limits: HTTPParserLimits
    ) throws(HTTPParseError) {
        switch special {
        case .none:
            break
        case .host:
            hostCount &+= 1
            if hostCount > 1 { throw HTTPParseError(.repeatedHost) }
            // An empty value is what a client sends when the target has no authority (RFC 9110 §7.2).
            guard start == end || AuthoritySyntax.portColon(bytes, start: start, end: end) != nil else {
                throw HTTPParseError(.invalidHost)
            }
            host = field.value
        case .contentLength:
            try interpretContentLength(bytes, start: start, end: end, limits: limits)
        case .transferEncoding:
            try interpretTransferEncoding(bytes, start: start, end: end)
        case .connection:
            Self.forEachListElement(bytes, start: start, end: end) { elementStart, elementEnd in
                let length = elementEnd &- elementStart
                if bytes.equalsLowercase("close", at: elementStart, count: length) { connectionClose = true }
                if bytes.equalsLowercase("keep-alive", at: elementStart, count: length) { connectionKeepAlive = true }
                return true
            }
        case .expect:
            // A list (RFC 9110 §10.1.1); empty members are ignored (§5.6.1.2), so `Expect:` and
            // `100-continue,` expect nothing else.
            Self.forEachListElement(bytes, start: start, end: end) { elementStart, elementEnd in
                if bytes.equalsLowercase("100-continue", at: elementStart, count: elementEnd &- elementStart) {
                    expectContinue = true
                } else {
                    expectOther = true
                }
                return true
            }
        case .upgrade:
            upgrade = upgrade.map { $0 + ", " + field.value } ?? field.value
        }
    }

    private mutating func interpretContentLength(
        _ bytes: UnsafeRawBufferPointer, start: Int, end: Int, limits: HTTPParserLimits
    ) throws(HTTPParseError) {
        guard start < end else { throw HTTPParseError(.invalidContentLength) }
        var value = 0
        var overflows = false
        for offset in start..<end {
            let digit = bytes[offset] &- ByteClass.zero
            guard digit < 10 else { throw HTTPParseError(.invalidContentLength) }
            if !overflows {
                let (shifted, overflowedShift) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflowedSum) = shifted.addingReportingOverflow(Int(digit))
                if overflowedShift || overflowedSum { overflows = true } else { value = sum }
            }
        }
        // Two fields must agree exactly whatever the limit (RFC 9112 §6.3: else 400): past what
        // an Int holds, by their digits.
        let digits = overflows ? Self.significantDigits(bytes, start: start, end: end) : nil
        if let previous = contentLength, previous != value || digits != contentLengthDigits {
            throw HTTPParseError(.conflictingContentLength)
        }
        contentLength = value
        contentLengthDigits = digits
        contentLengthTooLarge = overflows || value > limits.maxBodySize
    }

    /// The digits of a decimal without its leading zeros.
    private static func significantDigits(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> [UInt8] {
        var first = start
        while first < end &- 1, bytes[first] == ByteClass.zero { first &+= 1 }
        return Array(bytes[first..<end])
    }

    private mutating func interpretTransferEncoding(
        _ bytes: UnsafeRawBufferPointer, start: Int, end: Int
    ) throws(HTTPParseError) {
        hasTransferEncoding = true
        var failure: HTTPParseError?
        Self.forEachListElement(bytes, start: start, end: end) { elementStart, elementEnd in
            var nameEnd = elementStart
            while nameEnd < elementEnd, ByteClass.isToken(bytes[nameEnd]) { nameEnd &+= 1 }
            if nameEnd == elementStart {
                failure = HTTPParseError(.invalidTransferEncoding)
                return false
            }
            if chunkedSeen {
                failure = HTTPParseError(.chunkedNotFinal)
                return false
            }
            if bytes.equalsLowercase("chunked", at: elementStart, count: nameEnd &- elementStart) {
                guard nameEnd == elementEnd else {
                    failure = HTTPParseError(.invalidTransferEncoding)
                    return false
                }
                chunkedSeen = true
            } else {
                unknownCoding = true
            }
            return true
        }
        if let failure { throw failure }
    }

    /// Calls `body` with the bounds of each non-empty, OWS-trimmed element of a comma-separated list.
    private static func forEachListElement(
        _ bytes: UnsafeRawBufferPointer, start: Int, end: Int, _ body: (Int, Int) -> Bool
    ) {
        var index = start
        while index < end {
            while index < end,
                bytes[index] == ByteClass.sp || bytes[index] == ByteClass.htab || bytes[index] == ByteClass.comma
            {
                index &+= 1
            }
            let elementStart = index
            while index < end, bytes[index] != ByteClass.comma { index &+= 1 }
            var elementEnd = index
            while elementEnd > elementStart,
                bytes[elementEnd &- 1] == ByteClass.sp || bytes[elementEnd &- 1] == ByteClass.htab
            {
                elementEnd &-= 1
            }
            if elementEnd > elementStart, !body(elementStart, elementEnd) { return }
        }
    }
}
