import HTTPTypes

/// Fields the parser interprets for framing and connection handling.
enum SpecialField: UInt8 {
    case none, host, contentLength, transferEncoding, connection, expect, upgrade
}

/// Interned names of common request fields, so a typical head creates no String for field names.
///
/// Each entry has a ready `HTTPField.Name` for the usual spelling (as browsers and curl send it) and for the
/// lowercase spelling; other spellings still match and only then allocate the raw name.
final class KnownFieldNames: Sendable {
    struct Entry: Sendable {
        let lowercase: [UInt8]
        let usual: [UInt8]
        let usualName: HTTPField.Name
        let lowercaseName: HTTPField.Name
        let special: SpecialField
    }

    static let shared = KnownFieldNames()

    /// Entries bucketed by name length; names longer than the table are never known.
    let buckets: [[Entry]]

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
        var buckets = [[Entry]](repeating: [], count: 32)
        for (usual, special) in list {
            let lower = usual.lowercased()
            guard let usualName = HTTPField.Name(usual), let lowerName = HTTPField.Name(lower) else { continue }
            buckets[usual.utf8.count].append(
                Entry(lowercase: Array(lower.utf8), usual: Array(usual.utf8), usualName: usualName,
                      lowercaseName: lowerName, special: special))
        }
        self.buckets = buckets
    }

    /// Finds the name of `count` bytes at `offset` (already validated as a token).
    @inline(__always)
    func lookup(_ bytes: UnsafeRawBufferPointer, offset: Int, count: Int) -> (HTTPField.Name, SpecialField) {
        if count < buckets.count {
            for entry in buckets[count] {
                switch Self.compare(bytes, offset: offset, entry: entry) {
                case .usual: return (entry.usualName, entry.special)
                case .lowercase: return (entry.lowercaseName, entry.special)
                case .other:
                    let raw = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset &+ count]), as: UTF8.self)
                    if let name = HTTPField.Name(raw) { return (name, entry.special) }
                case .different:
                    continue
                }
            }
        }
        let raw = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset &+ count]), as: UTF8.self)
        // The bytes are tchars, which HTTPField.Name accepts; the fallback only keeps this total.
        let name = HTTPField.Name(raw) ?? HTTPField.Name.via
        return (name, .none)
    }

    private enum Match { case usual, lowercase, other, different }

    @inline(__always)
    private static func compare(_ bytes: UnsafeRawBufferPointer, offset: Int, entry: Entry) -> Match {
        entry.lowercase.withUnsafeBufferPointer { lower in
            entry.usual.withUnsafeBufferPointer { usual in
                var isUsual = true
                var isLower = true
                var index = 0
                while index < lower.count {
                    let byte = bytes[offset &+ index]
                    if ByteClass.lower(byte) != lower[index] { return .different }
                    if byte != usual[index] { isUsual = false }
                    if byte != lower[index] { isLower = false }
                    index &+= 1
                }
                return isUsual ? .usual : (isLower ? .lowercase : .other)
            }
        }
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
