// The RFC grammars the deliberate rules test inputs against, written from the RFCs rather than from
// Loopwork's code, so that the rules check Loopwork instead of repeating it.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

private func isAlpha(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
func isAlphaByte(_ byte: UInt8) -> Bool { isAlpha(byte) }
private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
private func isHex(_ byte: UInt8) -> Bool { isDigit(byte) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66) }

/// RFC 3986 §2.3 unreserved.
private func isUnreserved(_ byte: UInt8) -> Bool {
    isAlpha(byte) || isDigit(byte) || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
}

/// RFC 3986 §2.2 sub-delims: ! $ & ' ( ) * + , ; =
private func isSubDelim(_ byte: UInt8) -> Bool { Array("!$&'()*+,;=".utf8).contains(byte) }

/// RFC 9110 §5.6.2 tchar.
func isTchar(_ byte: UInt8) -> Bool { isAlpha(byte) || isDigit(byte) || Array("!#$%&'*+-.^_`|~".utf8).contains(byte) }

/// Whether `bytes` is a run of `allowed` bytes and pct-encoded triplets (RFC 3986 §2.1).
private func isEncoded(_ bytes: ArraySlice<UInt8>, _ allowed: (UInt8) -> Bool) -> Bool {
    var index = bytes.startIndex
    while index < bytes.endIndex {
        if bytes[index] == 0x25 {
            guard index + 2 < bytes.endIndex, isHex(bytes[index + 1]), isHex(bytes[index + 2]) else { return false }
            index += 3
        } else {
            guard allowed(bytes[index]) else { return false }
            index += 1
        }
    }
    return true
}

/// RFC 9110 §7.2 Host = uri-host [ ":" port ], with RFC 3986 §3.2.2 host and §3.2.3 port. An empty
/// value is the Host of a target without authority (RFC 9112 §3.2); an empty host with a port is not
/// an http authority (RFC 9110 §4.2.1: such a URI MUST be rejected).
func isValidHost(_ value: ArraySlice<UInt8>) -> Bool {
    if value.first == 0x3A { return false }
    var rest: ArraySlice<UInt8>
    if value.first == 0x5B {
        guard let close = value.firstIndex(of: 0x5D), isIPLiteral(value[(value.startIndex + 1)..<close]) else {
            return false
        }
        rest = value[(close + 1)...]
    } else {
        let end = value.firstIndex(of: 0x3A) ?? value.endIndex
        guard isEncoded(value[..<end], { isUnreserved($0) || isSubDelim($0) }) else { return false }
        rest = value[end...]
    }
    guard let colon = rest.first else { return true }
    return colon == 0x3A && rest.dropFirst().allSatisfy(isDigit)
}

/// RFC 3986 §3.2.2 IP-literal without its brackets: IPv6address / IPvFuture.
private func isIPLiteral(_ bytes: ArraySlice<UInt8>) -> Bool {
    if let first = bytes.first, first | 0x20 == 0x76 {
        guard let dot = bytes.firstIndex(of: 0x2E), dot > bytes.startIndex + 1, dot + 1 < bytes.endIndex else {
            return false
        }
        return bytes[(bytes.startIndex + 1)..<dot].allSatisfy(isHex)
            && bytes[(dot + 1)...].allSatisfy { isUnreserved($0) || isSubDelim($0) || $0 == 0x3A }
    }
    guard bytes.allSatisfy({ isHex($0) || $0 == 0x3A || $0 == 0x2E }) else { return false }
    var address = in6_addr()
    return inet_pton(AF_INET6, String(decoding: bytes, as: UTF8.self), &address) == 1
}

/// RFC 3986 §3.3 pchar.
private func isPchar(_ byte: UInt8) -> Bool { isUnreserved(byte) || isSubDelim(byte) || byte == 0x3A || byte == 0x40 }

/// origin-form = absolute-path [ "?" query ] (RFC 9112 §3.2.1); query also allows "/" and "?".
private func isOriginForm(_ target: ArraySlice<UInt8>) -> Bool {
    guard target.first == 0x2F else { return false }
    let query = target.firstIndex(of: 0x3F) ?? target.endIndex
    return isEncoded(target[..<query], { isPchar($0) || $0 == 0x2F })
        && isEncoded(target[query...].dropFirst(), { isPchar($0) || $0 == 0x2F || $0 == 0x3F })
}

/// The authority of an absolute-form target `scheme "://" authority ...`, nil for any other form.
func absoluteAuthority(_ target: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
    guard let first = target.first, isAlpha(first),
        let colon = target.firstIndex(where: { !(isAlpha($0) || isDigit($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E) }
        ),
        target[colon...].starts(with: Array("://".utf8))
    else { return nil }
    let start = colon + 3
    let end = target[start...].firstIndex { $0 == 0x2F || $0 == 0x3F } ?? target.endIndex
    return target[start..<end]
}

/// Whether a request-target is valid for its method (RFC 9112 §3.2). An absolute-form target must
/// carry an authority: Loopwork is an origin server, and for http(s) RFC 9110 §4.2.1 requires one.
func isValidTarget(_ target: [UInt8], method: [UInt8]) -> Bool {
    if method == Array("CONNECT".utf8) {
        // authority-form = uri-host ":" port; a tunnel needs both, so neither may be empty here.
        guard let colon = target.lastIndex(of: 0x3A), colon > 0, colon + 1 < target.count,
            target[(colon + 1)...].allSatisfy(isDigit)
        else { return false }
        return isValidHost(target[...])
    }
    if target == [0x2A] { return method == Array("OPTIONS".utf8) }
    if target.first == 0x2F { return isOriginForm(target[...]) }
    guard let authority = absoluteAuthority(target[...]), !authority.isEmpty else { return false }
    // userinfo is deprecated for http(s) and an error to a recipient (RFC 9110 §4.2.4).
    let rest = target[authority.endIndex...]
    return isValidHost(authority) && (rest.isEmpty || isOriginForm(rest.first == 0x2F ? rest : ([0x2F] + rest)[...]))
}

/// The members of a comma-separated list (RFC 9110 §5.6.1), without OWS and empty elements.
func listMembers(_ value: [UInt8]) -> [[UInt8]] {
    value.split(separator: 0x2C).map { element in
        Array(element.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed())
    }.filter { !$0.isEmpty }
}

/// A chunk-size line of the input: the hex size, the extension bytes up to CR (or to the input's end).
struct ChunkLine: Sendable {
    enum State: Equatable { case valid, validSoFar, invalid }

    var extensionBytes: ArraySlice<UInt8>
    /// Whether the line ended with CR (so the extension is complete).
    var terminated: Bool

    init?(_ input: [UInt8], start: Int) {
        var end = start
        while end < input.count, isHex(input[end]) { end += 1 }
        guard end > start else { return nil }
        let stop = input[end...].firstIndex { $0 == 0x0D || $0 == 0x0A } ?? input.count
        extensionBytes = input[end..<stop]
        terminated = stop < input.count && input[stop] == 0x0D
    }

    /// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) (RFC 9112 §7.1.1): BWS
    /// only ever comes before something, so whitespace at the end of the line is outside the grammar.
    var extensionState: State {
        enum Step {
            case start, spaceBeforeSemicolon, beforeName, name, afterName, beforeValue, token, quoted, escaped,
                afterValue, spaceAfterValue
        }
        var step = Step.start
        for byte in extensionBytes {
            let isSpace = byte == 0x20 || byte == 0x09
            switch step {
            case .start, .spaceBeforeSemicolon, .afterValue, .spaceAfterValue:
                if byte == 0x3B {
                    step = .beforeName
                } else if isSpace {
                    step = step == .afterValue ? .spaceAfterValue : step == .start ? .spaceBeforeSemicolon : step
                } else {
                    return .invalid
                }
            case .beforeName:
                if isTchar(byte) { step = .name } else if !isSpace { return .invalid }
            case .name, .afterName:
                if byte == 0x3B {
                    step = .beforeName
                } else if byte == 0x3D {
                    step = .beforeValue
                } else if isSpace {
                    step = .afterName
                } else if !(step == .name && isTchar(byte)) {
                    return .invalid
                }
            case .beforeValue:
                if byte == 0x22 {
                    step = .quoted
                } else if isTchar(byte) {
                    step = .token
                } else if !isSpace {
                    return .invalid
                }
            case .token:
                if byte == 0x3B {
                    step = .beforeName
                } else if isSpace {
                    step = .spaceAfterValue
                } else if !isTchar(byte) {
                    return .invalid
                }
            case .quoted:
                // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
                if byte == 0x22 {
                    step = .afterValue
                } else if byte == 0x5C {
                    step = .escaped
                } else if !(isSpace || byte == 0x21 || (byte >= 0x23 && byte != 0x7F)) {
                    return .invalid
                }
            case .escaped:
                guard isSpace || (byte >= 0x21 && byte != 0x7F) else { return .invalid }
                step = .quoted
            }
        }
        guard terminated else { return .validSoFar }
        switch step {
        case .start, .name, .token, .afterValue: return .valid
        default: return .invalid
        }
    }
}
