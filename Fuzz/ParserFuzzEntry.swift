// libFuzzer entry for HTTPRequestParser; built by scripts/fuzz-parser.sh, not by SwiftPM.
//
// Besides "never crash, hang or leak", it checks the parser's invariants on every input:
// the events (and the error, if any) are the same whether the input arrives whole, split at two
// input-derived offsets, or byte by byte; body slices lie inside the input they were cut from; no
// framing, routing or credential field is delivered as a trailer; and after an error the parser keeps
// refusing input with the same error.
import HTTPTypes
import LoopworkHTTP

private struct Trace: Equatable {
    var events: [String] = []
    var body: [UInt8] = []
    var error: HTTPParseError?
}

private func describe(_ head: HTTPRequestHead) -> String {
    let fields = head.request.headerFields.map { "\($0.name.rawName): \($0.value)" }.joined(separator: "|")
    return "head \(head.request.method.rawValue) \(head.target) \(head.version) \(head.request.authority ?? "-") "
        + "\(head.request.path ?? "-") \(head.keepAlive) \(head.expectsContinue) \(head.upgrade ?? "-") "
        + "\(head.framing) [\(fields)]"
}

/// A few of the names the parser must never deliver as trailers; the full list is internal to LoopworkHTTP.
private let framingAndRoutingNames = [
    "Content-Length", "Transfer-Encoding", "Host", "Authorization", "Cookie", "Content-Type",
].compactMap { HTTPField.Name($0) }

private func run(_ input: UnsafeRawBufferPointer, cuts: [Int], limits: HTTPParserLimits) -> Trace {
    var parser = HTTPRequestParser(limits: limits)
    var trace = Trace()
    var bounds = [0] + cuts.filter { $0 > 0 && $0 < input.count } + [input.count]
    bounds.sort()
    for (start, end) in zip(bounds, bounds.dropFirst()) where start < end {
        let slice = UnsafeRawBufferPointer(rebasing: input[start..<end])
        do {
            try parser.parse(slice) { event in
                switch event {
                case .head(let head):
                    trace.events.append(describe(head))
                case .body(let bytes):
                    guard let base = bytes.baseAddress, let sliceBase = slice.baseAddress,
                        base >= sliceBase, base + bytes.count <= sliceBase + slice.count
                    else { fatalError("body slice outside the input") }
                    trace.body.append(contentsOf: bytes)
                case .end(let trailers, let discarded):
                    let text = trailers.map { $0.map { "\($0.name.rawName): \($0.value)" }.joined(separator: "|") }
                    // Fields kept out of trailers (RFC 9110 §6.5.1) are dropped, never delivered as trailers.
                    for name in discarded + framingAndRoutingNames where trailers?[name] != nil {
                        fatalError("forbidden trailer field \(name) delivered")
                    }
                    let dropped = discarded.map(\.rawName).joined(separator: "|")
                    trace.events.append("end body=\(trace.body.count) \(text ?? "-") discarded=\(dropped)")
                    trace.body = []
                }
            }
        } catch let error as HTTPParseError {
            trace.error = error
            // Sticky: any later input is refused with the same error.
            var again: HTTPParseError?
            do { try parser.parse(slice) { _ in } } catch let later as HTTPParseError { again = later } catch {}
            if again != error { fatalError("error is not sticky") }
            return trace
        } catch {
            fatalError("unexpected error type \(error)")
        }
    }
    if parser.isIdle && parser.isInHead { fatalError("idle and in head at once") }
    return trace
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    // Small limits on odd first bytes so the limit paths are reached by short inputs too.
    let limits =
        (size > 0 && data[0] & 1 == 1)
        ? HTTPParserLimits(
            maxRequestLineLength: 40, maxHeaderSectionSize: 80, maxFieldCount: 4, maxBodySize: 64,
            maxChunkExtensionLength: 8)
        : HTTPParserLimits.default
    let whole = run(input, cuts: [], limits: limits)
    let a = size > 1 ? Int(data[size / 2]) % size : 0
    let b = size > 2 ? Int(data[size - 1]) &* 7 % size : 0
    let split = run(input, cuts: [a, b], limits: limits)
    if whole != split { fatalError("split at \(a),\(b) differs: \(whole) vs \(split)") }
    if size <= 2048 {
        let bytewise = run(input, cuts: Array(0...size), limits: limits)
        if whole != bytewise { fatalError("byte-by-byte differs: \(whole) vs \(bytewise)") }
    }
    return 0
}
