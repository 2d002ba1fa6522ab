import HTTPTypes
import LoopworkHTTP
import Testing

/// A chunked request with body `hi`: `ext` follows the data chunk's size, `lastExt` the last chunk's.
private func chunkedRequest(ext: String, lastExt: String = "") -> [UInt8] {
    bytes("POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\(ext)\r\nhi\r\n0\(lastExt)\r\n\r\n")
}

private let expectedMessage =
    "POST /up HTTP/1.1 authority=h path=/up keepAlive=true continue=false upgrade=- framing=chunked "
    + "[Host: h | Transfer-Encoding: chunked] body=hi trailers=-"

/// `chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )` (RFC 9112 §7.1.1).
private let validExtensions = [
    ";a", ";a=b", ";a=\"b c\"", ";a=\"\\\"q\\\"\"", " ; a = b ; c", ";a;b=1;c=\"x\";d", ";a=\"\"", ";a=\"\\\\\"",
    ";a=\"caf\u{E9}\"", ";a=\"\\\u{E9}\"", "\t;\ta\t=\t\"b\"\t;c", ";!#$%&'*+-.^_`|~09AZaz=!#$%&'*+-.^_`|~",
    ";a=\"(),/:;<=>?@[]{}\"", ";a=\"\t \"", ";a=\"\\\t\\ \\x\"", "  ;a", ";a=b ;c",
]

/// Each must fail with "invalid chunk extension"; loose chunk lines let two parsers frame one body differently.
private let invalidExtensions = [
    // Empty names and values.
    ";", "; ", ";;a", ";=b", ";a=", ";a= ", ";a;", ";a=b;", " ;", " ; ",
    // Quoted strings: closed, escapes complete, no controls.
    ";a=\"b", ";a=\"b\\", ";a=\"b\\\"", ";a=\"b\u{1}\"", ";a=\"\u{7F}\"", ";a=\"\\\u{1}\"", ";a=\"\\\u{7F}\"",
    ";a=\"b\"c", ";a=\"b\"\"c\"", ";a=b\"c\"", ";a=\"b\"=c",
    // Separators where a token is required, stray "=", whitespace inside or at the end.
    ";a=b=c", ";a==b", ";a(b", ";a=b(c", ";a=b,c", ";a b", ";a=b c", ";a ", ";a=b ", ";a=\"b\" ", ";a =", "; a = ",
    ";a\u{0}", ";a\u{E9}", ";a=b\u{E9}", ";a\u{7F}",
]

/// Each input is fed whole, byte by byte, split at every offset and in random pieces (``splitStrategies``).
@Suite struct RequestParserChunkExtensionTests {
    @Test(arguments: validExtensions)
    func validExtensionIsIgnored(_ ext: String) {
        for input in [chunkedRequest(ext: ext), chunkedRequest(ext: "", lastExt: ext)] {
            for cuts in splitStrategies(count: input.count) {
                let outcome = parse(input, cuts: cuts)
                #expect(outcome.error == nil && outcome.messages == [expectedMessage], "cuts \(cuts): \(outcome)")
                if outcome.messages != [expectedMessage] { break }
            }
        }
    }

    @Test(arguments: invalidExtensions)
    func invalidExtensionIsRefused(_ ext: String) {
        let expected = HTTPParseError(.invalidChunkExtension)
        for input in [chunkedRequest(ext: ext), chunkedRequest(ext: "", lastExt: ext)] {
            for cuts in splitStrategies(count: input.count) {
                let outcome = parse(input, cuts: cuts)
                #expect(outcome.error == expected && outcome.messages.isEmpty, "cuts \(cuts): \(outcome)")
                if outcome.error != expected { break }
            }
        }
    }

    /// The limit counts every byte after the size up to CR, quoted strings and whitespace included.
    @Test(arguments: [-1, 0, 1])
    func limitCountsQuotedStringsAndWhitespace(delta: Int) {
        let limit = 16
        // ` ; a = "` is 8 bytes, the closing quote 1.
        let ext = " ; a = \"" + String(repeating: "q", count: limit + delta - 9) + "\""
        let input = chunkedRequest(ext: ext)
        let limits = HTTPParserLimits(maxChunkExtensionLength: limit)
        for cuts in [[], Array(0...input.count)] {
            let outcome = parse(input, cuts: cuts, limits: limits)
            if delta > 0 {
                #expect(outcome.error?.code == .chunkExtensionTooLong)
            } else {
                #expect(outcome.error == nil && outcome.messages == [expectedMessage], "\(outcome)")
            }
        }
    }

    @Test func unclosedQuoteDoesNotSwallowTheLineEnd() {
        // A lax parser that skips to LF would take the CRLF inside the "quoted string" as the end of the line.
        let input = bytes("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2;a=\"\r\nhi\r\n0\r\n\r\n")
        for cuts in splitStrategies(count: input.count) {
            #expect(parse(input, cuts: cuts).error?.code == .invalidChunkExtension, "cuts \(cuts)")
        }
    }
}
