/// Minimal JSON string building for the framework's own small, fixed-shape payloads (error
/// details), so they need no encoder and cannot fail.
enum JSONText {
    static func object(_ members: KeyValuePairs<String, String>) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        for (key, value) in members {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendString(value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A flat object of string members with sorted keys, the same bytes `JSONEncoder` with
    /// `.sortedKeys` gives, without its cost.
    static func object(_ members: [String: String]) -> [UInt8] {
        // One allocation for the usual one-member answer: the bytes reserved before the first
        // is written, and a single key needs no sorted copy of the keys.
        var out: [UInt8] = []
        out.reserveCapacity(2 + members.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        out.append(UInt8(ascii: "{"))
        func append(_ key: String, _ value: String, first: Bool) {
            if !first { out.append(UInt8(ascii: ",")) }
            appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendString(value, to: &out)
        }
        if members.count == 1, let (key, value) = members.first {
            append(key, value, first: true)
        } else {
            for (index, key) in members.keys.sorted().enumerated() {
                append(key, members[key] ?? "", first: index == 0)
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [
                    UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                    hex[Int(byte >> 4)], hex[Int(byte & 0xF)],
                ])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
