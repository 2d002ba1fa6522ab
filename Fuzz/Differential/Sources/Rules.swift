// The list the differential target consults before it reports a disagreement.
//
// Every disagreement is either a Loopwork bug or one of Loopwork's deliberate, RFC-backed rules that
// llhttp does not share. `deliberateRules` lists the second kind: each entry names the rule and the
// RFC text behind it, and recognises it from the input and both outcomes alone, not from Loopwork's
// error reason, so a rule keeps matching only what it describes when the codec's wording changes.
// `knownBugs` lists Loopwork bugs that are reported but not fixed yet, so that a run carries on to
// the next one; each matches the wrong outcome only, so it stops matching once the fix lands (and
// should then be deleted). The bugs found so far, all fixed: a forbidden trailer field failed the
// request, chunk extensions outside the grammar were accepted, an absolute-form authority was not
// validated, an empty Expect member meant 417, and differing lengths past the limit meant 413.
//
// Beside this list, the comparison itself already allows for: llhttp refusing bad bytes earlier than
// Loopwork (a refusal counts only once the other parser completed what holds the byte), llhttp
// keeping trailing whitespace in a field value span (RFC 9112 §5: not part of the value), and
// Loopwork's limits (lifted for the comparison; `checkLimits` holds the small-limit run to them).

struct Case: Sendable {
    var input: [UInt8]
    var loopwork: Trace
    var llhttp: Trace
    var disagreement: Disagreement

    var message: Int { disagreement.message }
    var kind: Disagreement.Kind { disagreement.kind }
    var at: Int { disagreement.at }

    /// The head of the message they disagree about, as the parser that accepted it saw it.
    var acceptedHead: Head? {
        switch kind {
        case .loopworkRejects: llhttp.head(message)?.head
        case .llhttpRejects: loopwork.head(message)?.head
        default: llhttp.head(message)?.head ?? loopwork.head(message)?.head
        }
    }

    /// The bytes of the message's head (request line to the empty line), as far as it got.
    var headBytes: ArraySlice<UInt8> {
        let start = message == 0 ? 0 : (llhttp.end(message - 1) ?? loopwork.end(message - 1)).map { $0.at + 1 } ?? 0
        let end = (llhttp.head(message) ?? loopwork.head(message)).map { $0.at + 1 } ?? min(at + 1, input.count)
        return input[min(start, end)..<end]
    }

    /// The chunk-size line that holds the disagreement's offset, if the offset lies in one: the line
    /// begins where llhttp completed the message's head or a chunk, and llhttp had not yet seen the
    /// last chunk (after which come trailers).
    var chunkLine: ChunkLine? {
        guard acceptedHead?.framing == .chunked, let headAt = (llhttp.head(message) ?? loopwork.head(message))?.at,
            at > headAt
        else { return nil }
        if llhttp.chunkSizes.contains(where: { $0.message == message && $0.size == 0 && $0.at < at }) { return nil }
        var start = min(at, input.count - 1)
        while start > 0, input[start - 1] != 0x0A { start -= 1 }
        guard start - 1 == headAt || llhttp.milestones.contains(start - 1) else { return nil }
        return ChunkLine(input, start: start)
    }
}

struct Rule: Sendable {
    /// A short name, shown in the run's summary.
    var name: String
    /// The RFC text that backs Loopwork's behaviour.
    var rfc: String
    var applies: @Sendable (Case) -> Bool
}

let deliberateRules: [Rule] = [
    // llhttp knows a fixed table of methods and refuses any other token; Loopwork takes every
    // token and leaves unknown methods to the application (501 there).
    Rule(
        name: "method outside llhttp's table",
        rfc: "RFC 9110 §9.1: method = token; the set is extensible (§16.1)"
    ) { c in
        guard c.kind == .llhttpRejects, c.llhttp.llhttpErrno == LLHTTPErrno.invalidMethod,
            let method = c.loopwork.head(c.message)?.head.method
        else { return false }
        return !llhttpMethods.contains(method)
    },
    // llhttp also parses HTTP/0.9 (no version at all), HTTP/2.0 and RTSP/1.0 request lines; Loopwork
    // answers 505 to any version but 1.0 and 1.1 and 400 to anything that is not HTTP-version.
    Rule(
        name: "HTTP version other than HTTP/1.0 and HTTP/1.1",
        rfc: "RFC 9112 §2.3: HTTP-version = HTTP-name \"/\" DIGIT \".\" DIGIT, HTTP-name = %s\"HTTP\"; "
            + "RFC 9110 §15.6.6 (505)"
    ) { c in
        guard c.kind == .loopworkRejects, let head = c.llhttp.head(c.message)?.head else { return false }
        let name = c.message < c.llhttp.protocols.count ? c.llhttp.protocols[c.message] : []
        return head.major != 1 || head.minor > 1 || name != Array("HTTP".utf8)
    },
    // llhttp does not look at Host. Loopwork refuses an HTTP/1.1 request without one, any request
    // with two, and a Host whose value is not uri-host [ ":" port ].
    Rule(
        name: "missing, repeated or invalid Host",
        rfc: "RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request without Host, with more than one, "
            + "or with an invalid value; RFC 9110 §7.2: Host = uri-host [ \":\" port ] (RFC 3986 §3.2.2-3)"
    ) { c in
        guard c.kind == .loopworkRejects, let head = c.acceptedHead else { return false }
        let hosts = head.values("host")
        return (hosts.isEmpty && head.minor == 1) || hosts.count > 1 || hosts.contains { !isValidHost($0[...]) }
    },
    // Loopwork accepts only the four forms of RFC 9112 §3.2, each where it belongs; llhttp accepts
    // e.g. `GET *`, an origin-form target for CONNECT or `scheme:///path`.
    Rule(
        name: "request-target not in the form its method allows",
        rfc: "RFC 9112 §3.2 (no fragment), §3.2.1-4: authority-form only for CONNECT, asterisk-form only for "
            + "OPTIONS; RFC 9110 §4.2.1: an http(s) URI has a non-empty authority"
    ) { c in
        guard c.kind == .loopworkRejects, let head = c.acceptedHead else { return false }
        return !isValidTarget(head.target, method: head.method)
    },
    // llhttp takes runs of spaces between the parts of the request line; Loopwork wants one SP each.
    Rule(
        name: "request line not separated by single spaces",
        rfc: "RFC 9112 §3: request-line = method SP request-target SP HTTP-version; lenient whitespace parsing "
            + "is a MAY that invites request smuggling"
    ) { c in
        guard c.kind == .loopworkRejects else { return false }
        let head = c.headBytes.drop { $0 == 0x0D || $0 == 0x0A }
        let line = head.prefix { $0 != 0x0D && $0 != 0x0A }
        return line.filter { $0 == 0x20 }.count != 2 || line.contains(0x09)
    },
    // llhttp's URL parser is stricter than RFC 3986 in places: a scheme of letters only, for one.
    // Loopwork takes any target that is valid for its method, and any scheme the grammar allows.
    Rule(
        name: "valid request-target or scheme that llhttp refuses",
        rfc: "RFC 9112 §3.2; RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / \"+\" / \"-\" / \".\" )"
    ) { c in
        guard c.kind == .llhttpRejects, c.llhttp.llhttpErrno == LLHTTPErrno.invalidURL,
            let head = c.loopwork.head(c.message)?.head
        else { return false }
        if isValidTarget(head.target, method: head.method) { return true }
        // The scheme is where llhttp stopped; what Loopwork then accepted is another rule's matter.
        guard absoluteAuthority(head.target[...]) != nil, let colon = head.target.firstIndex(of: 0x3A) else {
            return false
        }
        return head.target[..<colon].contains { !isAlphaByte($0) } && c.llhttp.error.contains("schema")
    },
    // llhttp does not recognise chunked with HTAB after it (OWS), and then refuses the request.
    Rule(
        name: "chunked followed by OWS",
        rfc: "RFC 9110 §5.5: a field value excludes leading and trailing OWS (SP / HTAB)"
    ) { c in
        guard c.kind == .llhttpRejects, c.llhttp.llhttpErrno == LLHTTPErrno.invalidTransferEncoding,
            let head = c.loopwork.head(c.message)?.head
        else { return false }
        return head.values("transfer-encoding").flatMap(listMembers).map { $0.map(asciiLower) } == [
            Array("chunked".utf8)
        ]
    },
    // llhttp refuses HTAB after a Content-Length's digits (it allows only SP); Loopwork trims both.
    Rule(
        name: "Content-Length followed by OWS",
        rfc: "RFC 9110 §5.5 and RFC 9112 §5.1: a field value excludes leading and trailing OWS (SP / HTAB)"
    ) { c in
        guard c.kind == .llhttpRejects, c.llhttp.llhttpErrno == LLHTTPErrno.invalidContentLength,
            let lengths = c.loopwork.head(c.message)?.head.values("content-length"), !lengths.isEmpty
        else { return false }
        return lengths.allSatisfy {
            !$0.isEmpty && $0.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        }
    },
    // Loopwork answers 417 to an expectation it does not support; llhttp ignores Expect.
    Rule(
        name: "expectation other than 100-continue",
        rfc: "RFC 9110 §10.1.1: a server that receives an Expect member other than 100-continue MAY answer 417"
    ) { c in
        guard c.kind == .loopworkRejects, let head = c.acceptedHead, head.major == 1, head.minor == 1 else {
            return false
        }
        return head.values("expect").contains { value in
            listMembers(value).contains { $0.map(asciiLower) != Array("100-continue".utf8) }
        }
    },
    // llhttp frames any coding list that ends in chunked as chunked; Loopwork decodes chunked only,
    // once, and refuses Transfer-Encoding in HTTP/1.0.
    Rule(
        name: "Transfer-Encoding other than one chunked, or in HTTP/1.0",
        rfc: "RFC 9112 §6.1: a server SHOULD answer 501 to a transfer coding it does not understand; chunked is "
            + "applied at most once; Transfer-Encoding in HTTP/1.0 means faulty framing; §6.3 (4): a request whose "
            + "Transfer-Encoding (even empty) does not end in chunked MUST get 400"
    ) { c in
        guard c.kind == .loopworkRejects, let head = c.acceptedHead else { return false }
        let fields = head.values("transfer-encoding")
        let codings = fields.flatMap(listMembers).map { $0.map(asciiLower) }
        return !fields.isEmpty && (head.minor == 0 || codings != [Array("chunked".utf8)])
    },
    // Loopwork refuses obs-fold in a request.
    Rule(
        name: "obs-fold",
        rfc: "RFC 9112 §5.2: a server MUST reject obs-fold in a request with 400 or replace it with SP"
    ) { c in
        guard c.kind == .loopworkRejects else { return false }
        let head = c.headBytes.drop { $0 == 0x0D || $0 == 0x0A }
        guard let lineEnd = head.firstIndex(of: 0x0A) else { return false }
        return zip(head[lineEnd...], head[(lineEnd + 1)...]).contains { $0 == 0x0A && ($1 == 0x20 || $1 == 0x09) }
    },
    // llhttp keeps an HTTP/1.0 connection open when Connection has keep-alive, even beside close.
    Rule(
        name: "HTTP/1.0 with both keep-alive and close",
        rfc: "RFC 9112 §9.3: with the close option the connection does not persist; §9.6"
    ) { c in
        guard c.kind == .head, c.disagreement.detail == "keep-alive", let head = c.loopwork.head(c.message)?.head,
            head.major == 1, head.minor == 0
        else { return false }
        let options = head.values("connection").flatMap(listMembers).map { $0.map(asciiLower) }
        return options.contains(Array("close".utf8)) && options.contains(Array("keep-alive".utf8))
    },
    // Loopwork skips CRLF pairs before a request line but refuses a lone LF or CR there; llhttp skips
    // either byte alone.
    Rule(
        name: "bare LF or CR before a request line",
        rfc: "RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) before the request-line; a "
            + "recipient MAY (not must) take a lone LF as a line terminator"
    ) { c in
        guard c.kind == .loopworkRejects else { return false }
        let start = c.message == 0 ? 0 : (c.llhttp.end(c.message - 1)?.at ?? c.at) + 1
        guard start < c.input.count else { return false }
        let gap = c.input[start...].prefix { $0 == 0x0D || $0 == 0x0A }
        return gap.count % 2 == 1
            || stride(from: gap.startIndex, to: gap.endIndex, by: 2).contains { index in
                gap[index] != 0x0D || gap[index + 1] != 0x0A
            }
    },
    // llhttp (strict) refuses a second Content-Length even with the same value; Loopwork takes
    // repeated values of the same decimal number (`3` and `03` too) as one.
    Rule(
        name: "repeated identical Content-Length",
        rfc: "RFC 9110 §8.6: a recipient MAY replace a list of Content-Length values that are all the same decimal "
            + "value by one; §5.3: repeated field lines are one list"
    ) { c in
        guard c.kind == .llhttpRejects, c.llhttp.llhttpErrno == LLHTTPErrno.unexpectedContentLength,
            let lengths = c.loopwork.head(c.message)?.head.values("content-length")
        else { return false }
        let numbers = Set(lengths.map { value in Array(value.drop { $0 == UInt8(ascii: "0") }) })
        return lengths.count > 1 && numbers.count == 1
    },
    // Neither parser serves a request after one that ends the connection; llhttp fails on the
    // bytes that follow, Loopwork parses them but the connection stops dispatching (HTTPConnection's
    // acceptingRequests) and closes after the answer.
    Rule(
        name: "bytes after a request that ends the connection",
        rfc: "RFC 9112 §9.6: a server that receives close MUST NOT process further requests on that connection; "
            + "§9.3: HTTP/1.0 persists only with keep-alive"
    ) { c in
        (0..<c.message).contains { index in
            c.llhttp.head(index)?.head.keepAlive == false && c.loopwork.head(index)?.head.keepAlive == false
        }
    },
    // llhttp stops parsing HTTP after CONNECT or an Upgrade with `Connection: upgrade`, as a proxy
    // or a server that switches would. Loopwork implements neither: it surfaces Upgrade and answers
    // both as requests, so what follows on the connection is the next request.
    Rule(
        name: "CONNECT and Upgrade go on as HTTP",
        rfc: "RFC 9110 §7.8: a server MAY ignore Upgrade and keep the protocol; §9.3.6: a CONNECT request has no "
            + "content, a server that does not tunnel answers it as any request"
    ) { c in
        guard c.kind == .boundary, let upgradedAt = c.llhttp.upgradedAt else { return false }
        return c.message >= c.llhttp.messagesEnded(before: upgradedAt + 1) - 1
    },
    // Loopwork drops the trailer fields that may not be trailers and keeps the rest; llhttp reports
    // every trailer, and fails on a Content-Length there as if it framed the body.
    Rule(
        name: "forbidden trailer fields dropped",
        rfc: "RFC 9110 §6.5.1: framing, routing, authentication, request modifiers and content handling fields "
            + "are not allowed in trailers; §6.5.2: a recipient may discard trailers it cannot merge safely"
    ) { c in
        if c.kind == .llhttpRejects {
            guard let lastChunk = c.llhttp.chunkSizes.last(where: { $0.message == c.message && $0.size == 0 }),
                c.at > lastChunk.at, c.at < c.input.count
            else { return false }
            var start = c.at
            while start > 0, c.input[start - 1] != 0x0A { start -= 1 }
            let name = c.input[start...].prefix { $0 != 0x3A && $0 != 0x0D && $0 != 0x0A }.map(asciiLower)
            return forbiddenTrailerNames.contains(name)
        }
        guard c.kind == .trailers, let theirs = c.llhttp.end(c.message)?.trailers,
            let ours = c.loopwork.end(c.message)?.trailers
        else { return false }
        return theirs.filter { !forbiddenTrailerNames.contains($0.name.map(asciiLower)) } == ours
    },
    // Loopwork holds chunk extensions to their grammar; llhttp lets some invalid ones through (`2;a=`).
    Rule(
        name: "chunk extension outside its grammar",
        rfc: "RFC 9112 §7.1.1: chunk-ext = *( BWS \";\" BWS chunk-ext-name [ BWS \"=\" BWS chunk-ext-val ] ), "
            + "name = token, val = token / quoted-string"
    ) { c in
        guard c.kind == .loopworkRejects, let line = c.chunkLine else { return false }
        return line.extensionState == .invalid
    },
    // llhttp (strict) refuses whitespace around `;` and `=` in a chunk extension, which the grammar
    // allows as BWS; Loopwork accepts it.
    Rule(
        name: "BWS in a chunk extension",
        rfc: "RFC 9112 §7.1.1: BWS before \";\", the name, \"=\" and the value is part of chunk-ext"
    ) { c in
        guard c.kind == .llhttpRejects, let line = c.chunkLine, line.extensionState != .invalid else { return false }
        return line.extensionBytes.contains { $0 == 0x20 || $0 == 0x09 }
    },
    // Loopwork refuses lengths it cannot hold in an Int (413 for a Content-Length, 400 for a chunk
    // size); llhttp counts up to UInt64.max.
    Rule(
        name: "length beyond Int",
        rfc: "RFC 9112 §6.3, §7.1: a recipient MUST anticipate large numerals and prevent overflow; RFC 9110 §15.5.14 "
            + "(413)"
    ) { c in
        guard c.kind == .loopworkRejects else { return false }
        if case .length(let length)? = c.llhttp.head(c.message)?.head.framing, length > UInt64(Int.max / 10) {
            return true
        }
        return c.llhttp.chunkSizes.contains { $0.message == c.message && $0.size > UInt64(Int.max) }
    },
]

/// Loopwork bugs found and not fixed yet, so that a run carries on past them; each must match only
/// the wrong outcome, and goes once the fix lands. Empty: the last two (an `Expect` with only empty
/// members answered 417; differing `Content-Length` values past the body limit answered 413) are
/// fixed, with regression cases in the codec's tables.
let knownBugs: [Rule] = []

enum LLHTTPErrno {
    // llhttp.h, enum llhttp_errno.
    static let unexpectedContentLength: Int32 = 4
    static let closedConnection: Int32 = 5
    static let invalidMethod: Int32 = 6
    static let invalidURL: Int32 = 7
    static let invalidContentLength: Int32 = 11
    static let invalidTransferEncoding: Int32 = 15
}

/// llhttp's method table (HTTP_ALL_METHOD_MAP in llhttp.h).
let llhttpMethods: Set<[UInt8]> = Set(
    [
        "DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "COPY", "LOCK", "MKCOL", "MOVE",
        "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND", "ACL", "REPORT", "MKACTIVITY",
        "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "PATCH", "PURGE", "MKCALENDAR", "LINK",
        "UNLINK", "SOURCE", "PRI", "DESCRIBE", "ANNOUNCE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER",
        "SET_PARAMETER", "REDIRECT", "RECORD", "FLUSH", "QUERY",
    ].map { Array($0.utf8) })

/// RFC 9110 §6.5.1's fields that may not be trailers, as this target reads it (kept apart from the
/// codec's own list on purpose: the two are compared, not shared).
let forbiddenTrailerNames: Set<[UInt8]> = Set(
    [
        "content-length", "transfer-encoding", "trailer", "te", "connection", "keep-alive", "upgrade", "host",
        "max-forwards", "expect", "cache-control", "range", "if-match", "if-none-match", "if-modified-since",
        "if-unmodified-since", "if-range", "authorization", "proxy-authorization", "cookie", "set-cookie",
        "content-type", "content-encoding", "content-range",
    ].map { Array($0.utf8) })
