import HTTPTypes

/// Fields the parser interprets for framing and connection handling.
enum SpecialField: UInt8 {
    case none, host, contentLength, transferEncoding, connection, expect, upgrade
}

/// Interned names of common request fields, so a typical head creates no String for field names.
///
/// Each entry has a ready `HTTPField.Name` for the usual spelling (as browsers and curl send it) and for the
/// lowercase spelling; other spellings still match and only then allocate the raw name. The tables are flat
/// arrays so a lookup retains nothing.
final class KnownFieldNames: Sendable {
    static let shared = KnownFieldNames()

    /// Lowercase spelling of every name, back to back; entries point into it by offset.
    private let lowercaseBytes: [UInt8]
    /// Usual spelling of every name, at the same offsets.
    private let usualBytes: [UInt8]
    /// For each name length, the range of entries with that length.
    private let lengthRanges: [Range<Int>]
    private let offsets: [Int]
    private let usualNames: [HTTPField.Name]
    private let lowercaseNames: [HTTPField.Name]
    private let specials: [SpecialField]

    private init() {
        let list: [(String, SpecialField)] = [
            ("Host", .host), ("Content-Length", .contentLength), ("Transfer-Encoding", .transferEncoding),
            ("Connection", .connection), ("Expect", .expect), ("Upgrade", .upgrade),
            ("User-Agent", .none), ("Accept", .none), ("Accept-Encoding", .none), ("Accept-Language", .none),
            ("Content-Type", .none), ("Cookie", .none), ("Referer", .none), ("Origin", .none),
            ("Authorization", .none), ("Cache-Control", .none), ("Pragma", .none),
            ("Upgrade-Insecure-Requests", .none), ("Sec-Fetch-Site", .none), ("Sec-Fetch-Mode", .none),
            ("Sec-Fetch-User", .none), ("Sec-Fetch-Dest", .none), ("Sec-CH-UA", .none),
            ("Sec-CH-UA-Mobile", .none), ("Sec-CH-UA-Platform", .none), ("If-None-Match", .none),
            ("If-Modified-Since", .none), ("Range", .none), ("TE", .none), ("Trailer", .none),
            ("Content-Encoding", .none), ("Date", .none), ("DNT", .none), ("Priority", .none),
            ("X-Forwarded-For", .none), ("X-Forwarded-Proto", .none), ("X-Request-ID", .none),
            ("X-Requested-With", .none), ("Keep-Alive", .none), ("Via", .none), ("Forwarded", .none),
        ]
        let sorted = list.sorted { $0.0.utf8.count < $1.0.utf8.count }
        var lowercaseBytes: [UInt8] = []
        var usualBytes: [UInt8] = []
        var lengthRanges = [Range<Int>](repeating: 0..<0, count: 32)
        var offsets: [Int] = []
        var usualNames: [HTTPField.Name] = []
        var lowercaseNames: [HTTPField.Name] = []
        var specials: [SpecialField] = []
        for (usual, special) in sorted {
            let lower = usual.lowercased()
            guard let usualName = HTTPField.Name(usual), let lowerName = HTTPField.Name(lower) else { continue }
            let length = usual.utf8.count
            let index = offsets.count
            let range = lengthRanges[length]
            lengthRanges[length] = range.isEmpty ? index..<(index + 1) : range.lowerBound..<(index + 1)
            offsets.append(lowercaseBytes.count)
            lowercaseBytes.append(contentsOf: lower.utf8)
            usualBytes.append(contentsOf: usual.utf8)
            usualNames.append(usualName)
            lowercaseNames.append(lowerName)
            specials.append(special)
        }
        self.lowercaseBytes = lowercaseBytes
        self.usualBytes = usualBytes
        self.lengthRanges = lengthRanges
        self.offsets = offsets
        self.usualNames = usualNames
        self.lowercaseNames = lowercaseNames
        self.specials = specials
    }

    private enum Match { case usual, lowercase, other, different }

    /// Finds the name of `count` bytes at `offset` (already validated as a token).
    @inline(__always)
    func lookup(_ bytes: UnsafeRawBufferPointer, offset: Int, count: Int) -> (HTTPField.Name, SpecialField) {
        if count < lengthRanges.count {
            for entry in lengthRanges[count] {
                let match = lowercaseBytes.withUnsafeBufferPointer { lower in
                    usualBytes.withUnsafeBufferPointer { usual in
                        Self.compare(
                            bytes, offset: offset, count: count, lower: lower, usual: usual,
                            at: offsets[entry])
                    }
                }
                switch match {
                case .usual: return (usualNames[entry], specials[entry])
                case .lowercase: return (lowercaseNames[entry], specials[entry])
                case .other:
                    if let name = HTTPField.Name(Self.string(bytes, offset, count)) { return (name, specials[entry]) }
                case .different:
                    continue
                }
            }
        }
        // The bytes are tchars, which HTTPField.Name accepts; the fallback only keeps this total.
        let name = HTTPField.Name(Self.string(bytes, offset, count)) ?? HTTPField.Name.via
        return (name, .none)
    }

    @inline(__always)
    private static func string(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ count: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset &+ count]), as: UTF8.self)
    }

    @inline(__always)
    private static func compare(
        _ bytes: UnsafeRawBufferPointer, offset: Int, count: Int, lower: UnsafeBufferPointer<UInt8>,
        usual: UnsafeBufferPointer<UInt8>, at start: Int
    ) -> Match {
        var isUsual = true
        var isLower = true
        var index = 0
        while index < count {
            let byte = bytes[offset &+ index]
            let expected = lower[start &+ index]
            if ByteClass.lower(byte) != expected { return .different }
            if byte != usual[start &+ index] { isUsual = false }
            if byte != expected { isLower = false }
            index &+= 1
        }
        return isUsual ? .usual : (isLower ? .lowercase : .other)
    }
}

/// Interned request methods: the common ones cost no allocation.
enum KnownMethods {
    @inline(__always)
    static func lookup(_ bytes: UnsafeRawBufferPointer, offset: Int, count: Int) -> HTTPRequest.Method? {
        func eq(_ literal: StaticString) -> Bool {
            guard literal.utf8CodeUnitCount == count else { return false }
            let lit = literal.utf8Start
            for index in 0..<count where bytes[offset &+ index] != lit[index] { return false }
            return true
        }
        switch count {
        case 3:
            if eq("GET") { return .get }
            if eq("PUT") { return .put }
        case 4:
            if eq("POST") { return .post }
            if eq("HEAD") { return .head }
        case 5:
            if eq("PATCH") { return .patch }
            if eq("TRACE") { return .trace }
        case 6:
            if eq("DELETE") { return .delete }
        case 7:
            if eq("OPTIONS") { return .options }
            if eq("CONNECT") { return .connect }
        default:
            break
        }
        let raw = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset &+ count]), as: UTF8.self)
        return HTTPRequest.Method(raw)
    }
}
