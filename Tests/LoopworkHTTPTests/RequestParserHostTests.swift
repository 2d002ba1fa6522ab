import HTTPTypes
import LoopworkHTTP
import Testing

/// Host field values the parser accepts; each becomes the request's authority (none for an empty value).
private let validHosts = [
    "localhost", "localhost:80", "example.com:", "127.0.0.1:8080", "a-b.c_d~e", "!$&'()*+,;=", "%41%7e.example",
    "[::1]", "[::1]:8080", "[2001:db8::7]", "[2001:DB8:0:0:8:800:200C:417A]:443", "[1:2:3:4:5:6:7::]",
    "[::ffff:192.0.2.1]:443", "[1:2:3:4:5:6:255.255.255.255]", "[::]", "[v1.fe80::a+en1]:80", "[V7F.x]", "",
]

/// Host field values that are not `uri-host [ ":" port ]` (RFC 9110 §7.2, RFC 3986 §3.2.2).
private let invalidHosts = [
    // Ports: one at most, digits only, after a non-empty host.
    "localhost:80:80", "a:1:", ":80", ":", "h:8a", "h:-1", "h:+80", "h: 80", "h:80 x",
    // reg-name characters and percent-encoding.
    "a b", "a\"b", "a<b", "a\\b", "a^b", "a`b", "a{b", "a|b", "a}b", "a%", "a%4", "a%zz", "a%4g", "caf\u{E9}",
    // Userinfo, paths and queries belong to URIs, not to Host.
    "u@a", "a/b", "a?b", "a[b", "a]b",
    // IP-literals: brackets closed, a port only after them, IPv6 and IPvFuture grammar.
    "[::1", "::1", "[::1]80", "[::1]:8a", "[::1]]", "[::1]:80:80", "[]", "[[::1]]", "[1:2:3:4:5:6:7:8:9]",
    "[1:2:3:4:5:6:7]", "[1::2::3]", "[:1]", "[1:]", "[1:::2]", "[12345::]", "[g::1]", "[::1%25eth0]",
    "[::256.1.1.1]", "[::1.2.3]", "[::01.2.3.4]", "[::1.2.3.4.5]", "[1.2.3.4]", "[::1.2.3.4:1]",
    "[1:2:3:4:5:6:7:1.2.3.4]", "[v1.]", "[v.a]", "[vz.a]", "[v1a]", "[v1.a/b]", "x[::1]",
]

private func getRequest(target: String = "/", host: String) -> String {
    "GET \(target) HTTP/1.1\r\nHost: \(host)\r\n\r\n"
}

private func expectedMessage(target: String = "/", path: String = "/", host: String, authority: String) -> String {
    "GET \(target) HTTP/1.1 authority=\(authority) path=\(path) keepAlive=true continue=false upgrade=- "
        + "framing=none [Host: \(host)] body= trailers=-"
}

/// Each input is fed whole, byte by byte, split at every offset and in random pieces (``splitStrategies``).
@Suite struct RequestParserHostTests {
    @Test(arguments: validHosts)
    func validHostBecomesTheAuthority(_ host: String) {
        let input = bytes(getRequest(host: host))
        let expected = [expectedMessage(host: host, authority: host.isEmpty ? "-" : host)]
        for cuts in splitStrategies(count: input.count) {
            let outcome = parse(input, cuts: cuts)
            #expect(outcome.error == nil && outcome.messages == expected, "cuts \(cuts): \(outcome)")
            if outcome.messages != expected { break }
        }
    }

    @Test(arguments: invalidHosts)
    func invalidHostIsRefused(_ host: String) {
        let input = bytes(getRequest(host: host))
        let expected = HTTPParseError(.invalidHost)
        for cuts in splitStrategies(count: input.count) {
            let outcome = parse(input, cuts: cuts)
            #expect(outcome.error == expected && outcome.messages.isEmpty, "cuts \(cuts): \(outcome)")
            if outcome.error != expected { break }
        }
    }

    /// Every byte value in the middle of a reg-name: only unreserved and sub-delims characters pass.
    @Test func regNameAcceptsExactlyUnreservedAndSubDelims() {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=".utf8)
        for byte in UInt8.min...UInt8.max {
            let input = bytes("GET / HTTP/1.1\r\nHost: a") + [byte] + bytes("b\r\n\r\n")
            for cuts in [[], Array(0...input.count)] {
                let outcome = parse(input, cuts: cuts)
                if allowed.contains(byte) {
                    #expect(outcome.error == nil && outcome.messages.count == 1, "byte \(byte): \(outcome)")
                } else {
                    #expect(
                        outcome.error?.status == .badRequest && outcome.messages.isEmpty, "byte \(byte): \(outcome)")
                }
            }
        }
    }

    @Test(arguments: [
        ("http://[::1]:8080/x?y", "[::1]:8080", "/x?y"), ("http://h:/", "h:", "/"), ("https://a.b:443", "a.b:443", "/"),
        ("http://[v1.x]?q", "[v1.x]", "/?q"),
    ])
    func absoluteFormAuthorityIsValidatedLikeHost(_ target: String, _ authority: String, _ path: String) {
        let input = bytes(getRequest(target: target, host: "x"))
        let expected = [expectedMessage(target: target, path: path, host: "x", authority: authority)]
        for cuts in splitStrategies(count: input.count) {
            let outcome = parse(input, cuts: cuts)
            #expect(outcome.error == nil && outcome.messages == expected, "cuts \(cuts): \(outcome)")
            if outcome.messages != expected { break }
        }
    }

    @Test(arguments: [
        "http://a:1:2/", "http://u@a/", "http://u:p@a:80/", "http://:80/", "http://[::1/", "http://[::1]x/",
        "http://a%zz/", "http://a[b/", "http://[1::2::3]/",
    ])
    func absoluteFormWithAnInvalidAuthorityIsRefused(_ target: String) {
        let input = bytes(getRequest(target: target, host: "x"))
        let expected = HTTPParseError(.invalidAuthorityInTarget)
        for cuts in splitStrategies(count: input.count) {
            let outcome = parse(input, cuts: cuts)
            #expect(outcome.error == expected, "cuts \(cuts): \(outcome)")
            if outcome.error != expected { break }
        }
    }

    @Test(arguments: ["[::1]:443", "127.0.0.1:8443", "a.example:0"])
    func connectAcceptsAnAuthorityWithAPort(_ target: String) {
        let input = bytes("CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n\r\n")
        let expected = [
            "CONNECT \(target) HTTP/1.1 authority=\(target) path=\(target) keepAlive=true continue=false upgrade=- "
                + "framing=none [Host: \(target)] body= trailers=-"
        ]
        for cuts in splitStrategies(count: input.count) {
            let outcome = parse(input, cuts: cuts)
            #expect(outcome.error == nil && outcome.messages == expected, "cuts \(cuts): \(outcome)")
            if outcome.messages != expected { break }
        }
    }

    @Test(arguments: ["a:b:443", "[::1]", "[::1]:", "h:", ":443", "u@h:443", "[::1]443", "h:44a", "a%zz:1", "[::1:443"])
    func connectRefusesAnythingButHostColonPort(_ target: String) {
        let input = bytes("CONNECT \(target) HTTP/1.1\r\nHost: h\r\n\r\n")
        let expected = HTTPParseError(.connectRequiresAuthorityForm)
        for cuts in splitStrategies(count: input.count) {
            let outcome = parse(input, cuts: cuts)
            #expect(outcome.error == expected, "cuts \(cuts): \(outcome)")
            if outcome.error != expected { break }
        }
    }
}
