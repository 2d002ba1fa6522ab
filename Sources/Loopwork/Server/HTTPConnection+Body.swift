import LoopworkHTTP

/// The request body's side of the connection: what happens to a body its handler did not read,
/// and the reader's requests (a `100 Continue`, more bytes) coming back to the connection.
extension HTTPConnection {
    /// Called when a request's response is complete while its body is not: drops what is
    /// buffered and drains the rest, or returns `false` when the connection must close instead
    /// (the client waits for a `100 Continue` nobody sent, more remains than the drain limit, or
    /// the body was refused for its size).
    func settleUnreadBody(_ body: InboundBody?) -> Bool {
        guard let body else { return true }
        if body.wasRefused {
            body.discardRest()
            acceptingRequests = false
            return false
        }
        guard !body.isEnded else { return true }
        body.discardRest()
        if body.isAwaitingContinue || (body.remainingDeclaredBytes ?? 0) > worker.configuration.unreadBodyDrainLimit {
            acceptingRequests = false
            return false
        }
        return true
    }
}

extension HTTPConnection: InboundBodyDelegate {
    func bodyWantsContinue(_ body: InboundBody) {
        guard !isClosed, !closingAfterWrites, let (current, sequence) = parsingBody, current === body else { return }
        // The interim answer must not land inside an earlier response.
        if activeStream == nil, responses.isFirst(sequence) {
            writeContinue()
        } else {
            responses.requestContinue(sequence)
        }
        applyBackpressure()
    }

    func bodyWasRead(_ body: InboundBody) {
        guard readingPaused, parsingBody?.body === body else { return }
        applyBackpressure()
    }
}

extension HTTPBodyFraming {
    /// The `Content-Length` the client declared; `nil` for a chunked body or none.
    var declaredLength: Int? {
        if case .contentLength(let length) = self { return length }
        return nil
    }
}
