import HTTPTypes

/// Turns one complete request head, held contiguously, into an ``HTTPRequestHead``.
enum HTTPHeadDecoder {
    /// Decodes `bytes[start..<end]`, which holds the request line, field lines and the final empty line.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, start: Int, end: Int, limits: HTTPParserLimits
    ) throws(HTTPParseError) -> HTTPRequestHead {
        // Method.
        var index = start
        while ByteClass.isToken(bytes[index]) { index &+= 1 }
        guard index > start, bytes[index] == ByteClass.sp else { throw HTTPParseError(.malformedRequestLine) }
        guard let method = KnownMethods.lookup(bytes, offset: start, count: index &- start) else {
            throw HTTPParseError(.invalidMethod)
        }
        // Target.
        index &+= 1
        let targetStart = index
        while ByteClass.isTargetChar(bytes[index]) { index &+= 1 }
        guard index > targetStart, bytes[index] == ByteClass.sp else {
            throw HTTPParseError(.invalidRequestTarget)
        }
        let targetEnd = index
        index &+= 1
        // Version: exactly "HTTP/" DIGIT "." DIGIT CRLF.
        let version = try decodeVersion(bytes, at: index, end: end)
        index &+= 10

        var section = HTTPFieldSectionDecoder()
        section.fields.reserveCapacity(16)
        try section.decode(bytes, from: index, to: end &- 2, limits: limits, interpret: true)

        let target = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[targetStart..<targetEnd]), as: UTF8.self)
        let (authority, path) = try decodeTarget(
            bytes, start: targetStart, end: targetEnd, target: target, method: method, host: section.host)
        let framing = try decodeFraming(section, version: version)
        let isHTTP11 = version == .http1_1
        if isHTTP11 && section.hostCount == 0 { throw HTTPParseError(.missingHost) }
        if isHTTP11 && section.expectOther {
            throw HTTPParseError(.unsupportedExpectation)
        }
        let keepAlive = isHTTP11 ? !section.connectionClose : (section.connectionKeepAlive && !section.connectionClose)
        let request = HTTPRequest(
            method: method, scheme: nil, authority: authority, path: path, headerFields: section.fields)
        return HTTPRequestHead(
            request: request, version: version, target: target, keepAlive: keepAlive,
            expectsContinue: isHTTP11 && section.expectContinue, upgrade: section.upgrade, framing: framing)
    }

    private static func decodeVersion(
        _ bytes: UnsafeRawBufferPointer, at index: Int, end: Int
    ) throws(HTTPParseError) -> HTTPVersion {
        guard end &- index >= 10 else { throw HTTPParseError(.malformedHTTPVersion) }
        // The name is case-sensitive (RFC 9112 §2.3), unlike the field names compared with `equalsLowercase`.
        guard bytes.equals("HTTP/", at: index), bytes[index &+ 6] == ByteClass.dot
        else { throw HTTPParseError(.malformedHTTPVersion) }
        let major = bytes[index &+ 5] &- ByteClass.zero
        let minor = bytes[index &+ 7] &- ByteClass.zero
        guard major < 10, minor < 10 else { throw HTTPParseError(.malformedHTTPVersion) }
        guard bytes[index &+ 8] == ByteClass.cr, bytes[index &+ 9] == ByteClass.lf else {
            throw HTTPParseError(.malformedRequestLine)
        }
        guard major == 1, minor <= 1 else {
            throw HTTPParseError(.unsupportedHTTPVersion)
        }
        return minor == 1 ? .http1_1 : .http1_0
    }

    /// Classifies the target form (RFC 9112 §3.2) and returns the request's authority and path.
    private static func decodeTarget(
        _ bytes: UnsafeRawBufferPointer, start: Int, end: Int, target: String, method: HTTPRequest.Method,
        host: String?
    ) throws(HTTPParseError) -> (String?, String) {
        let hostAuthority = (host?.isEmpty ?? true) ? nil : host
        let first = bytes[start]
        if method == .connect {
            // authority-form: uri-host ":" port, and the port may not be left out (RFC 9110 §9.3.6).
            guard let colon = AuthoritySyntax.portColon(bytes, start: start, end: end), colon &+ 1 < end else {
                throw HTTPParseError(.connectRequiresAuthorityForm)
            }
            return (target, target)
        }
        if first == ByteClass.slash { return (hostAuthority, target) }
        if first == ByteClass.asterisk && end &- start == 1 {
            guard method == .options else { throw HTTPParseError(.asteriskFormRequiresOptions) }
            return (hostAuthority, target)
        }
        // absolute-form: scheme "://" authority [path-abempty] [ "?" query ].
        var index = start
        guard ByteClass.isAlpha(first) else { throw HTTPParseError(.invalidRequestTarget) }
        while index < end, ByteClass.isSchemeChar(bytes[index]) { index &+= 1 }
        guard end &- index > 3, bytes.equals("://", at: index) else {
            throw HTTPParseError(.invalidRequestTarget)
        }
        index &+= 3
        let authorityStart = index
        while index < end, bytes[index] != ByteClass.slash, bytes[index] != ByteClass.question { index &+= 1 }
        guard index > authorityStart else { throw HTTPParseError(.invalidRequestTarget) }
        // The authority replaces Host (RFC 9112 §3.2.2), so it passes the same check.
        guard AuthoritySyntax.portColon(bytes, start: authorityStart, end: index) != nil else {
            throw HTTPParseError(.invalidAuthorityInTarget)
        }
        let authority = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[authorityStart..<index]), as: UTF8.self)
        let rest = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
        let path = index == end ? "/" : (bytes[index] == ByteClass.slash ? rest : "/" + rest)
        return (authority, path)
    }

    /// Applies RFC 9112 §6.1-6.3 and the request-smuggling rules to the framing fields.
    private static func decodeFraming(
        _ section: HTTPFieldSectionDecoder, version: HTTPVersion
    ) throws(HTTPParseError) -> HTTPBodyFraming {
        if section.hasTransferEncoding {
            if section.contentLength != nil { throw HTTPParseError(.contentLengthWithTransferEncoding) }
            if version == .http1_0 { throw HTTPParseError(.transferEncodingInHTTP1_0) }
            guard section.chunkedSeen else { throw HTTPParseError(.transferEncodingNotEndingInChunked) }
            if section.unknownCoding {
                throw HTTPParseError(.unsupportedTransferCoding)
            }
            return .chunked
        }
        if let length = section.contentLength {
            if section.contentLengthTooLarge {
                throw HTTPParseError(.bodyTooLarge)
            }
            return .contentLength(length)
        }
        return .none
    }
}
