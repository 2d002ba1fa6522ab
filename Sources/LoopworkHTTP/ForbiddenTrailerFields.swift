import HTTPTypes

/// The fields a chunked request's trailer section may not carry; the parser discards them.
///
/// RFC 9110 §6.5.1 forbids a sender to put in trailers anything needed for message framing, routing, request
/// modifiers, authentication, response control or deciding how to process the content, and forbids a recipient to
/// merge trailers into the header section. A handler, a proxy or a later hop that merged a trailer
/// `Content-Length`, `Host` or `Authorization` would act on a value the head never carried, which is how request
/// smuggling and authentication bypasses through trailers work. Dropping them keeps that promise for every
/// consumer at once, and RFC 9112 §7.1.2 lets a recipient discard trailer fields; refusing the whole request, as
/// the parser once did, fails clients that strict parsers such as llhttp accept.
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

    /// Splits `trailers` into the fields to deliver (nil when none is left) and the names of the forbidden ones, in
    /// the order they were received. Their values are not kept: an `Authorization` or `Cookie` is no log material.
    static func partition(_ trailers: HTTPFields) -> (kept: HTTPFields?, discarded: [HTTPField.Name]) {
        // The usual trailer section has no forbidden field and is delivered as decoded, without a copy.
        guard trailers.contains(where: { names.contains($0.name.canonicalName) }) else { return (trailers, []) }
        var kept = HTTPFields()
        var discarded: [HTTPField.Name] = []
        for field in trailers {
            if names.contains(field.name.canonicalName) {
                discarded.append(field.name)
            } else {
                kept.append(field)
            }
        }
        return (kept.isEmpty ? nil : kept, discarded)
    }
}
