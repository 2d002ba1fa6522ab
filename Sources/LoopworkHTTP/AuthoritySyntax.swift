/// RFC 3986's `uri-host [ ":" port ]`, the authority HTTP routes on, checked in place.
///
/// The Host field, an absolute-form target's authority and a CONNECT target all go through here, so a value that
/// one path refuses cannot reach the application through another. An ambiguous authority (`a:80:80`, `[::1]x`,
/// `u@a`) is what lets two hops route one request differently, which is why RFC 9110 §7.2 wants a 400 for an
/// invalid Host. Userinfo is refused as RFC 9110 §4.2.4 asks, and an empty host with a port too: RFC 9110 §4.2.1
/// makes an http(s) URI with an empty host invalid.
enum AuthoritySyntax {
    /// The index of the `:` before the port in `bytes[start..<end]` (`end` when there is none), or nil when the
    /// bytes are not a non-empty `uri-host` followed by an optional `":" *DIGIT`.
    static func portColon(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> Int? {
        guard start < end else { return nil }
        var index = start
        if bytes[index] == ByteClass.openBracket {
            // IP-literal: the first "]" closes it; nothing but a port may follow.
            var close = index &+ 1
            while close < end, bytes[close] != ByteClass.closeBracket { close &+= 1 }
            guard close < end, isIPLiteralContent(bytes, start: index &+ 1, end: close) else { return nil }
            index = close &+ 1
        } else {
            // reg-name, which IPv4address is a special case of.
            while index < end {
                let byte = bytes[index]
                if ByteClass.isRegNameChar(byte) {
                    index &+= 1
                } else if byte == ByteClass.percent, end &- index >= 3,
                    ByteClass.hexValue(bytes[index &+ 1]) != nil, ByteClass.hexValue(bytes[index &+ 2]) != nil
                {
                    index &+= 3
                } else {
                    break
                }
            }
            guard index > start else { return nil }
        }
        guard index < end else { return end }
        guard bytes[index] == ByteClass.colon else { return nil }
        var digit = index &+ 1
        while digit < end {
            guard ByteClass.isDigit(bytes[digit]) else { return nil }
            digit &+= 1
        }
        return index
    }

    /// IPv6address / IPvFuture, the bytes between the brackets. Zone identifiers (RFC 6874) are not part of HTTP's
    /// grammar and are refused.
    private static func isIPLiteralContent(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> Bool {
        guard start < end else { return false }
        if ByteClass.lower(bytes[start]) == ByteClass.lowercaseV { return isIPvFuture(bytes, start: start, end: end) }
        return isIPv6(bytes, start: start, end: end)
    }

    /// "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ), starting at the "v".
    private static func isIPvFuture(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> Bool {
        var index = start &+ 1
        while index < end, ByteClass.hexValue(bytes[index]) != nil { index &+= 1 }
        guard index > start &+ 1, index < end, bytes[index] == ByteClass.dot else { return false }
        index &+= 1
        guard index < end else { return false }
        while index < end {
            let byte = bytes[index]
            guard ByteClass.isRegNameChar(byte) || byte == ByteClass.colon else { return false }
            index &+= 1
        }
        return true
    }

    /// RFC 3986 IPv6address: eight h16 pieces, or fewer around one "::", the last two possibly an IPv4address.
    private static func isIPv6(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> Bool {
        var index = start
        var pieces = 0
        var elided = false
        if end &- index >= 2, bytes[index] == ByteClass.colon, bytes[index &+ 1] == ByteClass.colon {
            elided = true
            index &+= 2
            if index == end { return true }
        }
        while true {
            let pieceStart = index
            while index < end, index &- pieceStart < 4, ByteClass.hexValue(bytes[index]) != nil { index &+= 1 }
            if index < end, bytes[index] == ByteClass.dot {
                // ls32 as an IPv4address ends the address and stands for two pieces.
                guard isIPv4(bytes, start: pieceStart, end: end) else { return false }
                pieces &+= 2
                break
            }
            guard index > pieceStart else { return false }
            pieces &+= 1
            if index == end { break }
            guard bytes[index] == ByteClass.colon else { return false }
            index &+= 1
            guard index < end else { return false }
            if bytes[index] == ByteClass.colon {
                guard !elided else { return false }
                elided = true
                index &+= 1
                if index == end { break }
            }
        }
        // "::" stands for at least one zero piece.
        return elided ? pieces <= 7 : pieces == 8
    }

    /// Four dec-octets (0-255, no leading zero) separated by dots, filling `bytes[start..<end]`.
    private static func isIPv4(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> Bool {
        var index = start
        var octets = 0
        while true {
            let octetStart = index
            var value = 0
            while index < end, index &- octetStart < 3, ByteClass.isDigit(bytes[index]) {
                value = value &* 10 &+ Int(bytes[index] &- ByteClass.zero)
                index &+= 1
            }
            let length = index &- octetStart
            guard length > 0, value <= 255, length == 1 || bytes[octetStart] != ByteClass.zero else { return false }
            octets &+= 1
            if octets == 4 { return index == end }
            guard index < end, bytes[index] == ByteClass.dot else { return false }
            index &+= 1
        }
    }
}
