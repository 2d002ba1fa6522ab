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
