import LoopworkHTTP

// libFuzzer entry of the differential target: every input goes through Loopwork's parser and through
// llhttp (strict), and a disagreement that neither a deliberate rule nor a known bug explains stops
// the run with a report. Built by scripts/fuzz-differential.sh, not by SwiftPM.
//
// DIFF_FUZZ_KEEP_GOING=1 reports each new kind of disagreement once (its input goes to
// $DIFF_FUZZ_ARTIFACTS<signature>) and carries on, to survey a run rather than stop at the first.
// DIFF_FUZZ_TRACE=1 prints both traces of every input (for replaying one file).
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The comparison runs with Loopwork's limits out of reach, since llhttp has none to match them;
/// the limits are checked on their own (see `checkLimits`).
private let liftedLimits = HTTPParserLimits(
    maxRequestLineLength: .max / 2, maxHeaderSectionSize: .max / 2, maxFieldCount: .max / 2, maxBodySize: .max,
    maxChunkExtensionLength: .max / 2)

/// Small enough that inputs of a few hundred bytes reach every limit.
private let smallLimits = HTTPParserLimits(
    maxRequestLineLength: 64, maxHeaderSectionSize: 256, maxFieldCount: 8, maxBodySize: 64, maxChunkExtensionLength: 16)

private struct Statistics {
    var inputs = 0
    var compared = 0
    var agreed = 0
    var limitCuts = 0
    var hits: [String: Int] = [:]
    var reported: Set<String> = []
}

nonisolated(unsafe) private var statistics = Statistics()
nonisolated(unsafe) private var registeredSummary = false
private let keepGoing = getenv("DIFF_FUZZ_KEEP_GOING").map { String(cString: $0) == "1" } ?? false
private let tracing = getenv("DIFF_FUZZ_TRACE").map { String(cString: $0) == "1" } ?? false

@_cdecl("LLVMFuzzerTestOneInput")
public func differentialFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if !registeredSummary {
        registeredSummary = true
        atexit { printSummary() }
    }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    statistics.inputs += 1
    let llhttp = llhttpTrace(input)
    let loopwork = loopworkTrace(input, limits: liftedLimits)
    if let problem = checkLimits(input, lifted: loopwork) {
        unexplained("limits", "\(problem)\ninput (\(size) bytes): \"\(escaped(input))\"", input)
    }
    if tracing {
        print("loopwork: \(describe(loopwork))")
        print("llhttp:   \(describe(llhttp))")
    }
    statistics.compared += 1
    guard let disagreement = compare(loopwork: loopwork, llhttp: llhttp) else {
        statistics.agreed += 1
        return 0
    }
    let found = Case(input: Array(input), loopwork: loopwork, llhttp: llhttp, disagreement: disagreement)
    if let rule = deliberateRules.first(where: { $0.applies(found) }) {
        statistics.hits["rule: " + rule.name, default: 0] += 1
        if tracing { print("explained by rule \(rule.name)") }
        return 0
    }
    if let bug = knownBugs.first(where: { $0.applies(found) }) {
        statistics.hits["known bug: " + bug.name, default: 0] += 1
        if tracing { print("explained by known bug \(bug.name)") }
        return 0
    }
    // Grouped by what disagreed and by the refusing parser's error, not by what the other one did next.
    let refusal =
        switch disagreement.kind {
        case .loopworkRejects: loopwork.errorKind
        case .llhttpRejects: llhttp.errorKind
        default: ""
        }
    unexplained(disagreement.signature + "-" + refusal, report(found), input)
    return 0
}

/// Stops the run with the report, or with DIFF_FUZZ_KEEP_GOING logs the first of each signature.
private func unexplained(_ signature: String, _ text: String, _ input: UnsafeRawBufferPointer) {
    if !keepGoing { fatalError("unexplained disagreement\n" + text) }
    statistics.hits["unexplained: " + signature, default: 0] += 1
    if statistics.reported.insert(signature).inserted {
        print("differential: new disagreement \(signature)\n\(text)")
        save(input, as: signature)
    }
}

/// A run under small limits must be the lifted run cut short by a limit error: a limit may stop a
/// request, never change what was parsed before it or refuse for another reason. Returns what went
/// wrong, if anything.
private func checkLimits(_ input: UnsafeRawBufferPointer, lifted: Trace) -> String? {
    let limited = loopworkTrace(input, limits: smallLimits)
    guard let cut = limited.rejectedAt else {
        if limited.events != lifted.events || lifted.rejectedAt != nil { return "small limits changed the parse" }
        return nil
    }
    if limited.events != lifted.events.prefix(while: { $0.at < cut }).map({ $0 }) {
        return "small limits changed the events before the limit"
    }
    if lifted.rejectedAt == cut && lifted.error == limited.error { return nil }
    let isLimit =
        ["413 ", "414 ", "431 "].contains { limited.error.hasPrefix($0) }
        || limited.error.hasSuffix("chunk extension too long")
    guard isLimit, (lifted.rejectedAt ?? .max) >= cut else {
        return "small limits refused at \(cut) with \(limited.error); lifted limits: \(lifted.error)"
    }
    statistics.limitCuts += 1
    return nil
}

extension Trace {
    /// The error without details, for grouping disagreements.
    fileprivate var errorKind: String {
        guard rejectedAt != nil else { return "ok" }
        if llhttpErrno != 0 { return String(error.prefix { $0 != ":" }) }
        return error.prefix(3) + "_"
            + String(error.split(separator: ":").last ?? "").split(separator: " ")
            .joined(separator: "_")
    }
}

private func describe(_ trace: Trace) -> String {
    var parts: [String] = []
    var bodyStart: Int?
    var bodyEnd = 0
    func flush() {
        if let start = bodyStart { parts.append("body[\(start)..<\(bodyEnd)]") }
        bodyStart = nil
    }
    for timed in trace.events {
        switch timed.event {
        case .body(let offset):
            if bodyStart == nil || offset != bodyEnd {
                flush()
                bodyStart = offset
            }
            bodyEnd = offset + 1
        case .head(let head):
            flush()
            parts.append(
                "head@\(timed.at){\(escaped(head.method)) \(escaped(head.target)) \(head.major).\(head.minor) "
                    + "keepAlive=\(head.keepAlive) \(head.framing) [\(head.fields.map(\.description).joined(separator: "|"))]}"
            )
        case .end(let trailers):
            flush()
            parts.append(
                "end@\(timed.at)" + (trailers.isEmpty ? "" : "[\(trailers.map(\.description).joined(separator: "|"))]"))
        }
    }
    flush()
    if let at = trace.rejectedAt { parts.append("REJECT@\(at) \(trace.error)") }
    if let at = trace.upgradedAt { parts.append("UPGRADE@\(at)") }
    return parts.joined(separator: " ")
}

private func report(_ found: Case) -> String {
    let d = found.disagreement
    return """
        input (\(found.input.count) bytes): "\(escaped(found.input))"
        disagreement: \(d.kind.rawValue) at \(d.at) in message \(d.message): \(d.detail)
        loopwork: \(describe(found.loopwork))
        llhttp:   \(describe(found.llhttp))
        """
}

private func save(_ input: UnsafeRawBufferPointer, as signature: String) {
    guard let prefix = getenv("DIFF_FUZZ_ARTIFACTS").map({ String(cString: $0) }) else { return }
    let name = prefix + String(signature.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.prefix(120))
    guard let file = fopen(name, "wb") else { return }
    if let base = input.baseAddress { fwrite(base, 1, input.count, file) }
    fclose(file)
}

private func printSummary() {
    var lines = [
        "differential: \(statistics.inputs) inputs, \(statistics.agreed) agreed, "
            + "\(statistics.limitCuts) cut short by small limits as they should be"
    ]
    for (name, count) in statistics.hits.sorted(by: { $0.value > $1.value }) {
        lines.append("  \(count)\t\(name)")
    }
    let text = lines.joined(separator: "\n") + "\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
}
