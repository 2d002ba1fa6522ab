#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte classification used on the hot path; bitmaps in constants avoid a lazily initialised global table.
enum ByteClass {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let sp: UInt8 = 0x20
    static let htab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let dquote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let percent: UInt8 = 0x25
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let question: UInt8 = 0x3F
    static let openBracket: UInt8 = 0x5B
    static let closeBracket: UInt8 = 0x5D
    static let zero: UInt8 = 0x30
    static let lowercaseV: UInt8 = 0x76

    /// RFC 9110 tchar: `!#$%&'*+-.^_`|~`, digits and letters.
    @inline(__always)
    static func isToken(_ byte: UInt8) -> Bool {
        let word: UInt64
        switch byte >> 6 {
        case 0: word = 0x03FF_6CFA_0000_0000
        case 1: word = 0x57FF_FFFF_C7FF_FFFE
        default: return false
        }
        return (word >> UInt64(byte & 63)) & 1 == 1
    }

    /// RFC 3986 unreserved and sub-delims: ALPHA, DIGIT, `-._~` and `!$&'()*+,;=` (a reg-name without `%`).
    @inline(__always)
    static func isRegNameChar(_ byte: UInt8) -> Bool {
        let word: UInt64
        switch byte >> 6 {
        case 0: word = 0x2BFF_7FD2_0000_0000
        case 1: word = 0x47FF_FFFE_87FF_FFFE
        default: return false
        }
        return (word >> UInt64(byte & 63)) & 1 == 1
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- zero < 10
    }

    /// field-vchar, SP and HTAB (obs-text included); excludes CR, LF, NUL, DEL and other controls.
    @inline(__always)
    static func isFieldValue(_ byte: UInt8) -> Bool {
        (byte >= 0x20 && byte != 0x7F) || byte == 0x09
    }

    /// Visible ASCII allowed in a request-target (no fragment, no controls, no obs-text).
    @inline(__always)
    static func isTargetChar(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F && byte != 0x23
    }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: return Int(byte &- 0x30)
        case 0x41...0x46: return Int(byte &- 0x41 &+ 10)
        case 0x61...0x66: return Int(byte &- 0x61 &+ 10)
        default: return nil
        }
    }

    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }
}

extension UnsafeRawBufferPointer {
    /// Case-insensitive comparison of `count` bytes at `offset` with an ASCII-lowercase literal.
    @inline(__always)
    func equalsLowercase(_ literal: StaticString, at offset: Int, count: Int) -> Bool {
        guard literal.utf8CodeUnitCount == count else { return false }
        let lit = literal.utf8Start
        var index = 0
        while index < count {
            if ByteClass.lower(self[offset &+ index]) != lit[index] { return false }
            index &+= 1
        }
        return true
    }

    /// Index of the first LF at or after `from` before `end`, found with memchr.
    @inline(__always)
    func firstLF(from: Int, end: Int) -> Int? {
        guard from < end, let base = self.baseAddress else { return nil }
        guard let hit = memchr(base + from, Int32(ByteClass.lf), end - from) else { return nil }
        return UnsafeRawPointer(hit) - base
    }
}

extension ByteClass {
    @inline(__always)
    static func isAlpha(_ byte: UInt8) -> Bool {
        let lowered = byte | 0x20
        return lowered >= 0x61 && lowered <= 0x7A
    }

    /// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    @inline(__always)
    static func isSchemeChar(_ byte: UInt8) -> Bool {
        isAlpha(byte) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2B || byte == 0x2D || byte == 0x2E
    }
}

extension ByteClass {
    /// Skips whole 8-byte words of field-value bytes (no CTL but HTAB, no DEL) starting at `index`, reading no
    /// further than `limit`; returns the OR of the high bits seen, so callers know whether obs-text occurred.
    ///
    /// Long values (User-Agent, Accept, Cookie) dominate a browser head; testing eight bytes per step with
    /// the classic "has byte less than" bit trick is several times faster than a byte loop. A word holding the
    /// line's CR (or an HTAB) stops the skip and the byte loop finishes the value.
    @inline(__always)
    static func skipFieldValueWords(_ bytes: UnsafeRawBufferPointer, from index: inout Int, limit: Int) -> UInt8 {
        guard let base = bytes.baseAddress else { return 0 }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var seen: UInt64 = 0
        while index &+ 8 <= limit {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let below20 = (word &- ones &* 0x20) & ~word & highs
            let flipped = word ^ (ones &* 0x7F)
            let isDEL = (flipped &- ones) & ~flipped & highs
            if below20 | isDEL != 0 { break }
            seen |= word
            index &+= 8
        }
        return (seen & highs) == 0 ? 0 : 0x80
    }
}
