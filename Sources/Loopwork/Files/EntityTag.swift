package import LoopworkUV

/// An entity tag (RFC 9110 §8.8.3): an opaque validator, strong unless marked `W/`.
package struct EntityTag: Equatable, Sendable {
    /// The characters between the quotes.
    package let opaque: String
    /// Whether it is a weak validator (`W/"..."`).
    package let isWeak: Bool

    package init(opaque: String, isWeak: Bool = false) {
        self.opaque = opaque
        self.isWeak = isWeak
    }

    /// A strong tag for a file, from its size, modification time (to the nanosecond) and inode:
    /// an edit changes the time, a replacement (even one keeping the time) changes the inode.
    package init(file status: FileStatus) {
        let (seconds, attoseconds) = status.modificationTime.components
        let parts = [Int64(status.size), seconds, attoseconds / 1_000_000_000].map { String($0, radix: 16) }
        self.init(opaque: parts.joined(separator: "-") + "-" + String(status.inode, radix: 16))
    }

    /// The field value: `"opaque"` or `W/"opaque"`.
    package var fieldValue: String { (isWeak ? "W/" : "") + "\"" + opaque + "\"" }

    /// Weak comparison, for `If-None-Match`: the opaque parts match, whatever the weakness.
    package func weaklyMatches(_ other: EntityTag) -> Bool { opaque == other.opaque }

    /// Strong comparison, for `If-Range`: both strong and the same.
    package func stronglyMatches(_ other: EntityTag) -> Bool { !isWeak && !other.isWeak && opaque == other.opaque }

    /// Whether an `If-None-Match` field value (`*` or a list of tags) matches `self` by weak
    /// comparison. A malformed list matches by the tags read before the error.
    package func matchesNoneMatchField(_ value: String) -> Bool {
        if Self.trimmed(value.utf8[...]).elementsEqual("*".utf8) { return true }
        return Self.list(value).contains { weaklyMatches($0) }
    }

    /// The tags of a comma-separated field value. An opaque part may itself contain commas, so
    /// the value is scanned quote by quote rather than split.
    package static func list(_ value: String) -> [EntityTag] {
        var tags: [EntityTag] = []
        var rest = value.utf8[...]
        while let (tag, after) = next(in: rest) {
            tags.append(tag)
            rest = after
        }
        return tags
    }

    /// The value of an `If-Range` field when it is an entity tag rather than a date.
    package init?(ifRangeValue value: String) {
        guard let (tag, rest) = Self.next(in: value.utf8[...]), Self.trimmed(rest).isEmpty else { return nil }
        self = tag
    }

    /// The first tag in `bytes` (after separators) and what follows it.
    private static func next(in bytes: Substring.UTF8View) -> (EntityTag, Substring.UTF8View)? {
        var bytes = bytes.drop { isSpace($0) || $0 == UInt8(ascii: ",") }
        let isWeak = bytes.starts(with: "W/".utf8)
        if isWeak { bytes = bytes.dropFirst(2) }
        guard bytes.first == UInt8(ascii: "\""),
            let close = bytes.dropFirst().firstIndex(of: UInt8(ascii: "\""))
        else { return nil }
        let opaque = bytes[bytes.index(after: bytes.startIndex)..<close]
        return (
            EntityTag(opaque: String(decoding: opaque, as: UTF8.self), isWeak: isWeak),
            bytes[bytes.index(after: close)...]
        )
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    private static func trimmed(_ bytes: Substring.UTF8View) -> Substring.UTF8View {
        let start = bytes.drop(while: isSpace)
        guard let last = start.lastIndex(where: { !isSpace($0) }) else { return start[start.endIndex...] }
        return start[...last]
    }
}
