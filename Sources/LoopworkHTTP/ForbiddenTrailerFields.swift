import HTTPTypes

/// The fields a chunked request's trailer section may not carry; the parser refuses a request that sends one.
///
/// RFC 9110 §6.5.1 forbids a sender to put in trailers anything needed for message framing, routing, request
/// modifiers, authentication, response control or deciding how to process the content, and forbids a recipient to
/// merge trailers into the header section. Only refusing keeps that promise for every consumer at once: a handler,
/// a proxy or a later hop that merged a trailer `Content-Length`, `Host` or `Authorization` would act on a value
/// the head never carried, which is how request smuggling and authentication bypasses through trailers work.
enum ForbiddenTrailerFields {
    /// Canonical (lowercase) names, grouped by the reason RFC 9110 gives.
    static let names: Set<String> = [
        // Message framing and connection management.
        "content-length", "transfer-encoding", "trailer", "te", "connection", "keep-alive", "upgrade",
        // Routing.
        "host", "max-forwards",
        // Request modifiers: expectations, caching, ranges and preconditions (RFC 9110 §13.1).
        "expect", "cache-control", "range",
        "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "if-range",
        // Authentication and session state.
        "authorization", "proxy-authorization", "cookie", "set-cookie",
        // How to process the content.
        "content-type", "content-encoding", "content-range",
    ]

    /// Throws 400 naming the first forbidden field of `trailers`, in the order they were received.
    static func check(_ trailers: HTTPFields) throws(HTTPParseError) {
        for field in trailers {
            let name = field.name.canonicalName
            // The reason may name the field: a name in this fixed list is no request data worth hiding.
            if names.contains(name) { throw .badRequest("forbidden field \"\(name)\" in chunked trailer") }
        }
    }
}
