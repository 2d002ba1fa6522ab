#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Byte classification used on the hot path; bitmaps in constants avoid a lazily initialised global table.
///
/// The codec compares bytes with these names rather than hex literals; `package` only where the framework
/// shares a helper, so there is one hex decoder.
package enum ByteClass {
    static let htab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let sp: UInt8 = 0x20
    static let dquote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let percent: UInt8 = 0x25
    static let asterisk: UInt8 = 0x2A
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let hyphen: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let question: UInt8 = 0x3F
    static let uppercaseA: UInt8 = 0x41
    static let uppercaseF: UInt8 = 0x46
    static let uppercaseZ: UInt8 = 0x5A
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let lowercaseA: UInt8 = 0x61
    static let lowercaseF: UInt8 = 0x66
    static let lowercaseV: UInt8 = 0x76
    static let lowercaseZ: UInt8 = 0x7A
    static let del: UInt8 = 0x7F
    /// The bit an ASCII letter's lowercase form adds to its uppercase one.
    static let letterCaseBit: UInt8 = 0x20
    /// The bit every non-ASCII byte (obs-text in a field value) has set.
    static let highBit: UInt8 = 0x80

    // The two classes below are bitmaps, one bit per byte value in two 64-bit words (bytes 0-63, 64-127);
    // they are built from the character lists in their comments, where a name per byte would not help.

    /// RFC 9110 tchar: `!#$%&'*+-.^_`|~`, digits and letters.
    @inline(__always)
    static func isToken(_ byte: UInt8) -> Bool {
        bitmap(low: 0x03FF_6CFA_0000_0000, high: 0x57FF_FFFF_C7FF_FFFE, contains: byte)
    }

    /// RFC 3986 unreserved and sub-delims: ALPHA, DIGIT, `-._~` and `!$&'()*+,;=` (a reg-name without `%`).
    @inline(__always)
    static func isRegNameChar(_ byte: UInt8) -> Bool {
        bitmap(low: 0x2BFF_7FD2_0000_0000, high: 0x47FF_FFFE_87FF_FFFE, contains: byte)
    }

    /// Whether the bitmap `low` (bytes 0-63), `high` (bytes 64-127) has the bit of `byte` set; no byte
    /// above 127 is in it.
    @inline(__always)
    private static func bitmap(low: UInt64, high: UInt64, contains byte: UInt8) -> Bool {
        let word: UInt64
        switch byte >> 6 {
        case 0: word = low
        case 1: word = high
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
        (byte >= sp && byte != del) || byte == htab
    }

    /// Visible ASCII allowed in a request-target (no fragment, no controls, no obs-text).
    @inline(__always)
    static func isTargetChar(_ byte: UInt8) -> Bool {
        byte > sp && byte < del && byte != hash
    }

    /// The value of a hexadecimal digit (either case), or nil; also decodes the framework's percent-escapes.
    @inline(__always)
    package static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case zero...nine: return byte &- zero
        case uppercaseA...uppercaseF: return byte &- uppercaseA &+ 10
        case lowercaseA...lowercaseF: return byte &- lowercaseA &+ 10
        default: return nil
        }
    }

    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        (byte >= uppercaseA && byte <= uppercaseZ) ? byte | letterCaseBit : byte
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

    /// Exact comparison of the bytes at `offset` with an ASCII literal; the caller checks that they are in bounds.
    @inline(__always)
    func equals(_ literal: StaticString, at offset: Int) -> Bool {
        let lit = literal.utf8Start
        var index = 0
        while index < literal.utf8CodeUnitCount {
            if self[offset &+ index] != lit[index] { return false }
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
        let lowered = byte | letterCaseBit
        return lowered >= lowercaseA && lowered <= lowercaseZ
    }

    /// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    @inline(__always)
    static func isSchemeChar(_ byte: UInt8) -> Bool {
        isAlpha(byte) || isDigit(byte) || byte == plus || byte == hyphen || byte == dot
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
        // A copy of one byte in every lane, and the high bit of every lane.
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var seen: UInt64 = 0
        while index &+ 8 <= limit {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let belowSP = (word &- ones &* UInt64(sp)) & ~word & highs
            let flipped = word ^ (ones &* UInt64(del))
            let isDEL = (flipped &- ones) & ~flipped & highs
            if belowSP | isDEL != 0 { break }
            seen |= word
            index &+= 8
        }
        return (seen & highs) == 0 ? 0 : highBit
    }
}
