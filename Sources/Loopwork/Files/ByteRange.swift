/// What a `Range` header field asks of a representation of known size (RFC 9110 §14).
package enum ByteRangeSelection: Equatable, Sendable {
    /// The whole representation: no `Range`, one the server ignores (another unit, bad syntax,
    /// several ranges), or one that covers everything.
    case whole
    /// One range of bytes, within the representation: a 206.
    case partial(ClosedRange<Int64>)
    /// A single range that starts past the end (or asks for nothing): a 416.
    case unsatisfiable

    /// Interprets the `Range` field `value` for a representation of `size` bytes. Only one range is
    /// served: a request for several gets the whole file, which RFC 9110 allows and which avoids
    /// `multipart/byteranges`.
    package init(parsing value: String?, size: Int64) {
        guard let value else {
            self = .whole
            return
        }
        let trimmed = value.utf8.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let unit = Array("bytes=".utf8)
        guard trimmed.count > unit.count,
            zip(trimmed.prefix(unit.count), unit).allSatisfy({ Self.lowercased($0) == $1 })
        else {
            self = .whole
            return
        }
        let specs = trimmed.dropFirst(unit.count).split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard specs.count == 1, let spec = specs.first else {
            self = .whole
            return
        }
        self = Self.select(Self.trimmingWhitespace(spec), size: size)
    }

    private static func select(_ spec: Substring.UTF8View, size: Int64) -> ByteRangeSelection {
        guard let dash = spec.firstIndex(of: UInt8(ascii: "-")) else { return .whole }
        let first = spec[..<dash]
        let last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            // `-n`: the last n bytes.
            guard let length = number(last) else { return .whole }
            guard length > 0, size > 0 else { return .unsatisfiable }
            return clamped(size - min(length, size)...(size - 1), size: size)
        }
        guard let start = number(first) else { return .whole }
        let end: Int64
        if last.isEmpty {
            end = size - 1
        } else {
            guard let value = number(last) else { return .whole }
            // `b < a` is invalid syntax, which the server ignores.
            guard value >= start else { return .whole }
            end = min(value, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return clamped(start...end, size: size)
    }

    private static func clamped(_ range: ClosedRange<Int64>, size: Int64) -> ByteRangeSelection {
        range == 0...(size - 1) ? .whole : .partial(range)
    }

    /// Decimal digits as a number; a value past `Int64.max` saturates (it lies past any file's end).
    private static func number(_ digits: Substring.UTF8View) -> Int64? {
        guard !digits.isEmpty else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            value = overflow || carry ? .max : sum
        }
        return value
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    private static func trimmingWhitespace(_ bytes: Substring.UTF8View) -> Substring.UTF8View {
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let start = bytes.firstIndex(where: { !isSpace($0) }),
            let end = bytes.lastIndex(where: { !isSpace($0) })
        else { return bytes[bytes.endIndex...] }
        return bytes[start...end]
    }
}
