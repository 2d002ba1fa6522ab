import HTTPTypes

// Every failure the parser reports. The reasons are fixed texts, never request data, because a server sends
// them to the client.
extension HTTPParseError.Code {
    private static let httpVersionNotSupported = HTTPResponse.Status(
        code: 505, reasonPhrase: "HTTP Version Not Supported")
    private static let notImplemented = HTTPResponse.Status(code: 501, reasonPhrase: "Not Implemented")

    // MARK: Request line

    /// A request line longer than ``HTTPParserLimits/maxRequestLineLength`` (414).
    public static let requestLineTooLong = Self("requestLineTooLong", .uriTooLong, "request line too long")
    /// A request line that is not method, SP, target, SP, version (400).
    public static let malformedRequestLine = Self("malformedRequestLine", .badRequest, "malformed request line")
    /// A method that is not a token (400).
    public static let invalidMethod = Self("invalidMethod", .badRequest, "invalid method")
    /// A target with a byte outside visible ASCII, a fragment, or in none of the four forms (400).
    public static let invalidRequestTarget = Self("invalidRequestTarget", .badRequest, "invalid request target")
    /// An absolute-form target whose authority fails the Host syntax (400).
    public static let invalidAuthorityInTarget = Self(
        "invalidAuthorityInTarget", .badRequest, "invalid authority in request target")
    /// CONNECT with a target other than `host:port` (400).
    public static let connectRequiresAuthorityForm = Self(
        "connectRequiresAuthorityForm", .badRequest, "CONNECT requires authority-form target")
    /// `*` as the target of a method other than OPTIONS (400).
    public static let asteriskFormRequiresOptions = Self(
        "asteriskFormRequiresOptions", .badRequest, "asterisk-form target requires OPTIONS")
    /// A version that is not `HTTP/` DIGIT `.` DIGIT (400).
    public static let malformedHTTPVersion = Self("malformedHTTPVersion", .badRequest, "malformed HTTP version")
    /// A well-formed version other than HTTP/1.0 and HTTP/1.1 (505).
    public static let unsupportedHTTPVersion = Self(
        "unsupportedHTTPVersion", httpVersionNotSupported, "unsupported HTTP version")

    // MARK: Lines and field lines

    /// A line ending in a bare LF (400).
    public static let lineNotTerminatedByCRLF = Self(
        "lineNotTerminatedByCRLF", .badRequest, "line not terminated by CRLF")
    /// A field section (or trailer section) larger than ``HTTPParserLimits/maxHeaderSectionSize`` (431).
    public static let headerSectionTooLarge = Self(
        "headerSectionTooLarge", .requestHeaderFieldsTooLarge, "header section too large")
    /// More field lines than ``HTTPParserLimits/maxFieldCount`` (431).
    public static let tooManyFields = Self("tooManyFields", .requestHeaderFieldsTooLarge, "too many header fields")
    /// A field line starting with whitespace, the obsolete continuation of the line before (400).
    public static let obsoleteLineFolding = Self("obsoleteLineFolding", .badRequest, "obsolete line folding")
    /// Whitespace between a field name and its colon (400).
    public static let whitespaceBeforeColon = Self("whitespaceBeforeColon", .badRequest, "whitespace before colon")
    /// A field line starting with its colon (400).
    public static let emptyFieldName = Self("emptyFieldName", .badRequest, "empty field name")
    /// A field line with no colon (400).
    public static let fieldLineWithoutColon = Self("fieldLineWithoutColon", .badRequest, "field line without colon")
    /// A field name with a byte that is not a token character (400).
    public static let invalidFieldNameCharacter = Self(
        "invalidFieldNameCharacter", .badRequest, "invalid character in field name")
    /// A CR inside a field value that is not followed by LF (400).
    public static let bareCRInFieldValue = Self("bareCRInFieldValue", .badRequest, "bare CR in field value")
    /// A control character other than HTAB, or DEL, in a field value (400).
    public static let invalidFieldValueCharacter = Self(
        "invalidFieldValueCharacter", .badRequest, "invalid character in field value")

    // MARK: Fields the parser interprets

    /// An HTTP/1.1 request without Host (400).
    public static let missingHost = Self("missingHost", .badRequest, "missing Host field")
    /// Host sent more than once (400).
    public static let repeatedHost = Self("repeatedHost", .badRequest, "repeated Host field")
    /// A Host value that is not `uri-host [ ":" port ]` (400).
    public static let invalidHost = Self("invalidHost", .badRequest, "invalid Host field")
    /// A Content-Length that is not one run of digits (400).
    public static let invalidContentLength = Self("invalidContentLength", .badRequest, "invalid Content-Length")
    /// Content-Length fields with different values (400).
    public static let conflictingContentLength = Self(
        "conflictingContentLength", .badRequest, "conflicting Content-Length fields")
    /// Both Content-Length and Transfer-Encoding, a request-smuggling vector (400).
    public static let contentLengthWithTransferEncoding = Self(
        "contentLengthWithTransferEncoding", .badRequest, "Content-Length and Transfer-Encoding both present")
    /// A Transfer-Encoding member that is not a token, or chunked with parameters (400).
    public static let invalidTransferEncoding = Self(
        "invalidTransferEncoding", .badRequest, "invalid Transfer-Encoding")
    /// A transfer coding listed after chunked (400).
    public static let chunkedNotFinal = Self(
        "chunkedNotFinal", .badRequest, "chunked is not the final transfer coding")
    /// A Transfer-Encoding without chunked, whose body length cannot be known (400).
    public static let transferEncodingNotEndingInChunked = Self(
        "transferEncodingNotEndingInChunked", .badRequest, "Transfer-Encoding does not end in chunked")
    /// Transfer-Encoding in an HTTP/1.0 request (400).
    public static let transferEncodingInHTTP1_0 = Self(
        "transferEncodingInHTTP1_0", .badRequest, "Transfer-Encoding in an HTTP/1.0 request")
    /// A transfer coding before chunked that the parser does not decode, such as gzip (501).
    public static let unsupportedTransferCoding = Self(
        "unsupportedTransferCoding", notImplemented, "unsupported transfer coding")
    /// An Expect member other than `100-continue` (417).
    public static let unsupportedExpectation = Self(
        "unsupportedExpectation", .expectationFailed, "unsupported expectation")

    // MARK: Body

    /// A declared or chunked body larger than ``HTTPParserLimits/maxBodySize`` (413).
    public static let bodyTooLarge = Self("bodyTooLarge", .contentTooLarge, "body larger than allowed")
    /// A chunk size line that does not start with a hex digit or has a stray byte after it (400).
    public static let invalidChunkSize = Self("invalidChunkSize", .badRequest, "invalid chunk size")
    /// A chunk size too large for an Int (400); under any smaller body limit it is ``bodyTooLarge`` first.
    public static let chunkSizeOverflow = Self("chunkSizeOverflow", .badRequest, "chunk size overflow")
    /// A chunk size line whose CR is not followed by LF (400).
    public static let chunkSizeLineNotTerminatedByCRLF = Self(
        "chunkSizeLineNotTerminatedByCRLF", .badRequest, "chunk size line not terminated by CRLF")
    /// Chunk data longer than its size, or not followed by CRLF (400).
    public static let chunkDataNotFollowedByCRLF = Self(
        "chunkDataNotFollowedByCRLF", .badRequest, "chunk data not followed by CRLF")
    /// A chunk extension that breaks `*( BWS ";" BWS name [ BWS "=" BWS value ] )` (400).
    public static let invalidChunkExtension = Self("invalidChunkExtension", .badRequest, "invalid chunk extension")
    /// A chunk extension longer than ``HTTPParserLimits/maxChunkExtensionLength`` (400).
    public static let chunkExtensionTooLong = Self("chunkExtensionTooLong", .badRequest, "chunk extension too long")

    // MARK: Not the request's fault

    /// The event handler threw: the parser cannot know how much input was handled and stops (500).
    public static let abortedByHandler = Self(
        "abortedByHandler", .internalServerError, "parsing aborted by the event handler")
}
