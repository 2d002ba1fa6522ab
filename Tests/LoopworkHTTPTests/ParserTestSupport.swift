import HTTPTypes
import LoopworkHTTP
import Testing

/// One parsed message flattened to a string, so whole, split and byte-by-byte runs compare exactly.
struct ParseOutcome: Equatable, CustomStringConvertible {
    var messages: [String] = []
    var error: HTTPParseError?
    /// A message whose head arrived but whose end did not (yet).
    var partial: String?

    var description: String {
        "messages: \(messages), partial: \(partial ?? "-"), error: \(error.map { "\($0.code) (\($0))" } ?? "-")"
    }
}

func describe(_ head: HTTPRequestHead) -> String {
    let request = head.request
    let fields = request.headerFields.map { "\($0.name.rawName): \($0.value)" }.joined(separator: " | ")
    let framing: String
    switch head.framing {
    case .none: framing = "none"
    case .contentLength(let length): framing = "length(\(length))"
    case .chunked: framing = "chunked"
    }
    return "\(request.method.rawValue) \(head.target) \(head.version) authority=\(request.authority ?? "-") "
        + "path=\(request.path ?? "-") keepAlive=\(head.keepAlive) continue=\(head.expectsContinue) "
        + "upgrade=\(head.upgrade ?? "-") framing=\(framing) [\(fields)]"
}

/// Feeds `bytes` to one parser, split at `cuts` (sorted offsets), and records what it reports.
func parse(_ bytes: [UInt8], cuts: [Int] = [], limits: HTTPParserLimits = .default) -> ParseOutcome {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = ParseOutcome()
    var current: String?
    var body: [UInt8] = []
    var bounds = [0] + cuts.filter { $0 > 0 && $0 < bytes.count } + [bytes.count]
    bounds = Array(Set(bounds)).sorted()
    for (start, end) in zip(bounds, bounds.dropFirst()) {
        do {
            try bytes[start..<end].withUnsafeBytes { slice in
                try parser.parse(slice) { event in
                    switch event {
                    case .head(let head):
                        current = describe(head)
                        body = []
                    case .body(let chunk):
                        body.append(contentsOf: chunk)
                    case .end(let trailers, let discarded):
                        let trailerText =
                            trailers.map { fields in
                                fields.map { "\($0.name.rawName): \($0.value)" }.joined(separator: " | ")
                            } ?? "-"
                        // Only messages that dropped trailer fields say so, which keeps the other expectations short.
                        let discardedText =
                            discarded.isEmpty
                            ? "" : " discarded=" + discarded.map(\.rawName).joined(separator: " | ")
                        outcome.messages.append(
                            "\(current ?? "?") body=\(String(decoding: body, as: UTF8.self)) trailers=\(trailerText)"
                                + discardedText)
                        current = nil
                    }
                }
            }
        } catch let error as HTTPParseError {
            outcome.error = error
            break
        } catch {
            // The handler above never throws, so the parser has nothing else to rethrow.
            Issue.record("unexpected \(error)")
            break
        }
    }
    outcome.partial = current
    return outcome
}

/// A small deterministic generator so random splits are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Whole, byte by byte, split at every single offset, and random multi-way splits.
func splitStrategies(count: Int, seed: UInt64 = 42) -> [[Int]] {
    var result: [[Int]] = [[], Array(0...count)]
    for offset in 1..<max(count, 1) { result.append([offset]) }
    var rng = SplitMix64(state: seed)
    for _ in 0..<20 where count > 1 {
        let pieces = Int.random(in: 1...min(count, 8), using: &rng)
        result.append((0..<pieces).map { _ in Int.random(in: 0...count, using: &rng) }.sorted())
    }
    return result
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
