// Where two traces of the same input part ways.
//
// Events before either parser refused a byte must be identical, offsets included: that covers the
// head of every request, each body byte and where every message ends. A refusal is a disagreement
// only if the other parser completed something that contains the refused byte (a head, a message, a
// body byte, for llhttp also a chunk-size line or a chunk): llhttp refuses most bad bytes as soon as
// it sees them while Loopwork checks a head once it is complete, so a parser that merely has not
// finished the unit when the input ends has not disagreed. Both refusing within the same message is
// agreement, whatever the reason.

struct Disagreement {
    enum Kind: String {
        /// Loopwork refused a byte that llhttp accepted as part of a completed unit.
        case loopworkRejects = "loopwork-rejects"
        /// llhttp refused a byte that Loopwork accepted as part of a completed unit.
        case llhttpRejects = "llhttp-rejects"
        /// Both completed a head, with different contents (`detail` names the part).
        case head
        /// Both ended message `message`, with different trailers.
        case trailers
        /// The parsers disagree on where a head, a body or a message ends.
        case boundary
    }

    var kind: Kind
    /// The input offset at which they part.
    var at: Int
    /// The index of the message they disagree about.
    var message: Int
    var detail: String

    var signature: String { kind == .head ? "head-\(detail)" : kind.rawValue }
}

func compare(loopwork: Trace, llhttp: Trace) -> Disagreement? {
    let window = min(loopwork.rejectedAt ?? .max, llhttp.rejectedAt ?? .max)
    let ours = loopwork.events.prefix { $0.at < window }
    let theirs = llhttp.events.prefix { $0.at < window }
    var ended = 0
    for (mine, other) in zip(ours, theirs) {
        if mine != other { return part(mine, other, message: ended) }
        if case .end = mine.event { ended += 1 }
    }
    if ours.count != theirs.count {
        let extra = ours.count > theirs.count ? ours[theirs.count] : theirs[ours.count]
        let who = ours.count > theirs.count ? "loopwork" : "llhttp"
        return Disagreement(
            kind: .boundary, at: extra.at, message: ended,
            detail: "only \(who) reports \(extra.event.name) at \(extra.at)")
    }
    switch (loopwork.rejectedAt, llhttp.rejectedAt) {
    case (nil, nil):
        return nil
    case (let refused?, nil):
        let accepted = llhttp.events.first { $0.at >= refused }?.at ?? llhttp.milestones.first { $0 >= refused }
        guard let accepted else { return nil }
        return Disagreement(
            kind: .loopworkRejects, at: refused, message: loopwork.messagesEnded(before: refused),
            detail: "llhttp accepted through \(accepted)")
    case (nil, let refused?):
        guard let accepted = loopwork.events.first(where: { $0.at >= refused })?.at else { return nil }
        return Disagreement(
            kind: .llhttpRejects, at: refused, message: llhttp.messagesEnded(before: refused),
            detail: "loopwork accepted through \(accepted)")
    case (let mine?, let theirs?):
        // Both refused: only a message that one of them completed before refusing is a disagreement.
        let mineMessage = loopwork.messagesEnded(before: mine)
        let theirMessage = llhttp.messagesEnded(before: theirs)
        if mineMessage == theirMessage { return nil }
        return mineMessage < theirMessage
            ? Disagreement(
                kind: .loopworkRejects, at: mine, message: mineMessage, detail: "llhttp completed the message")
            : Disagreement(
                kind: .llhttpRejects, at: theirs, message: theirMessage, detail: "loopwork completed the message")
    }
}

private func part(_ mine: Timed, _ other: Timed, message: Int) -> Disagreement {
    let at = min(mine.at, other.at)
    switch (mine.event, other.event) {
    case (.head(let a), .head(let b)) where mine.at == other.at:
        return Disagreement(kind: .head, at: at, message: message, detail: a.difference(from: b) ?? "?")
    case (.end(let a), .end(let b)) where mine.at == other.at && a != b:
        return Disagreement(kind: .trailers, at: at, message: message, detail: "\(a) vs \(b)")
    default:
        return Disagreement(
            kind: .boundary, at: at, message: message,
            detail: "loopwork \(mine.event.name) at \(mine.at), llhttp \(other.event.name) at \(other.at)")
    }
}
