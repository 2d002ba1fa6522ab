// Measures request-parsing throughput of LoopworkHTTP and of SwiftNIO's HTTPRequestDecoder (llhttp) on the same
// pipelined buffers, and prints a markdown table with the ratio (LoopworkHTTP / NIO; above 1 means faster).
import HTTPTypes
import LoopworkHTTP
import NIOCore
import NIOEmbedded
import NIOHTTP1

struct CorpusEntry {
    let name: String
    let request: [UInt8]
}

let browserGET = """
    GET /products/search?q=mechanical+keyboard&page=2 HTTP/1.1\r
    Host: shop.example.com\r
    User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r
    Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r
    Accept-Language: en-US,en;q=0.5\r
    Accept-Encoding: gzip, deflate, br, zstd\r
    Referer: https://shop.example.com/products\r
    Connection: keep-alive\r
    Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; cart=3\r
    Upgrade-Insecure-Requests: 1\r
    Sec-Fetch-Dest: document\r
    Sec-Fetch-Mode: navigate\r
    Sec-Fetch-Site: same-origin\r
    \r

    """
let json =
    #"{"id":12345,"name":"Widget","tags":["a","b","c"],"price":19.99,"stock":{"warehouse":"north","count":42},"description":"A realistic JSON payload of a few hundred bytes, as an API client would post it to create or update a resource."}"#
let postJSON =
    "POST /api/v1/items HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: application/json\r\n"
    + "Content-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)"
let chunk = String(repeating: "0123456789abcdef", count: 64)  // 1 KiB
let chunkedUpload =
    "POST /upload HTTP/1.1\r\nHost: files.example.com\r\nContent-Type: application/octet-stream\r\n"
    + "Transfer-Encoding: chunked\r\n\r\n"
    + String(repeating: "400\r\n\(chunk)\r\n", count: 4) + "0\r\n\r\n"

let corpus = [
    CorpusEntry(name: "short GET", request: Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)),
    CorpusEntry(name: "browser GET (12 fields)", request: Array(browserGET.utf8)),
    CorpusEntry(name: "POST JSON (\(json.utf8.count) B body)", request: Array(postJSON.utf8)),
    CorpusEntry(name: "chunked upload (4 x 1 KiB)", request: Array(chunkedUpload.utf8)),
]

/// Repeats `body` until `seconds` have passed (after a short warm-up); returns iterations per second.
func measure(seconds: Double, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let warmUp = clock.now.advanced(by: .milliseconds(200))
    while clock.now < warmUp { body() }
    var best = 0.0
    for _ in 0..<3 {
        var iterations = 0
        let start = clock.now
        let deadline = start.advanced(by: .milliseconds(Int64(seconds * 1000 / 3)))
        while clock.now < deadline {
            body()
            iterations += 1
        }
        let elapsed = start.duration(to: clock.now)
        let secondsElapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        best = max(best, Double(iterations) / secondsElapsed)
    }
    return best
}

/// Counts what NIO's decoder emits, so neither side stores its results.
final class CountingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    var ends = 0
    var bodyBytes = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            _ = head.headers.count
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
        case .end:
            ends += 1
        }
    }
}

func benchLoopwork(_ buffer: [UInt8], requests: Int, seconds: Double) -> Double {
    buffer.withUnsafeBytes { bytes in
        measure(seconds: seconds) {
            var parser = HTTPRequestParser()
            var ends = 0
            var bodyBytes = 0
            do {
                try parser.parse(bytes) { event in
                    switch event {
                    case .head(let head): _ = head.request.headerFields.count
                    case .body(let body): bodyBytes += body.count
                    case .end: ends += 1
                    }
                }
            } catch {
                print("LoopworkHTTP failed: \(error)")
            }
            if ends != requests { print("LoopworkHTTP parsed \(ends) of \(requests)") }
        }
    }
}

func benchNIO(_ buffer: [UInt8], requests: Int, seconds: Double) -> Double {
    var input = ByteBufferAllocator().buffer(capacity: buffer.count)
    input.writeBytes(buffer)
    return measure(seconds: seconds) {
        let counter = CountingHandler()
        let channel = EmbeddedChannel()
        do {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
            try channel.pipeline.syncOperations.addHandler(counter)
            try channel.writeInbound(input)
            _ = try channel.finish()
        } catch {
            print("NIO failed: \(error)")
        }
        if counter.ends != requests { print("NIO parsed \(counter.ends) of \(requests)") }
    }
}

let arguments = CommandLine.arguments
let seconds = arguments.count > 1 ? Double(arguments[1]) ?? 3 : 3
let targetBytes = 256 * 1024

print("Parsing pipelined buffers of ~\(targetBytes / 1024) KiB per iteration, best of 3 over \(seconds) s each.\n")
print(
    "| corpus entry | request bytes | LoopworkHTTP req/s | LoopworkHTTP MB/s | NIO (llhttp) req/s | NIO MB/s | ratio |")
print("|---|---:|---:|---:|---:|---:|---:|")
// An optional second argument keeps only the entries whose name contains it (for profiling).
let only = arguments.count > 2 ? arguments[2] : nil
for entry in corpus where only.map({ entry.name.contains($0) }) ?? true {
    let copies = max(1, targetBytes / entry.request.count)
    var buffer: [UInt8] = []
    buffer.reserveCapacity(copies * entry.request.count)
    for _ in 0..<copies { buffer.append(contentsOf: entry.request) }
    let ours = benchLoopwork(buffer, requests: copies, seconds: seconds) * Double(copies)
    let theirs = benchNIO(buffer, requests: copies, seconds: seconds) * Double(copies)
    let megabytes = Double(entry.request.count) / 1_000_000
    func format(_ value: Double, _ digits: Int = 0) -> String {
        let scale = digits == 0 ? 1.0 : 100.0
        let rounded = (value * scale).rounded() / scale
        return digits == 0 ? String(Int(rounded)) : String(rounded)
    }
    print(
        "| \(entry.name) | \(entry.request.count) | \(format(ours)) | \(format(ours * megabytes, 2)) | "
            + "\(format(theirs)) | \(format(theirs * megabytes, 2)) | \(format(ours / theirs, 2))x |")
}
