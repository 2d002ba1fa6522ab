import HTTPTypes
import LoopworkHTTP
import LoopworkUV

extension HTTPConnection {
    /// Serializes a finished handler's response into its slot and writes what is now in order.
    func complete(_ response: Response, for exchange: Exchange) {
        guard !isClosed else {
            exchange.context.responseFinished(delivered: false)
            return
        }
        // When no request will be taken after the last one owed (shutdown, the client's EOF, a
        // closing request), that last response says so.
        var keepAlive = exchange.keepAlive && (acceptingRequests || !responses.isLast(exchange.sequence))
        let serializer = worker.serializer
        var bytes: [UInt8] = []
        var stream: OutboundBody?
        switch response.body.storage {
        case .bytes(let body):
            // The body's fate decides the Connection field, so settle it before serializing.
            if !settleUnreadBody(exchange.body) { keepAlive = false }
            // Only a whole response gives its buffer back (in `writeWhole`), so only it takes one.
            bytes = takeSpareResponseBuffer()
            serializer.writeResponse(
                status: response.status, headerFields: response.headerFields, body: body,
                version: exchange.version, keepAlive: keepAlive, isHeadRequest: exchange.isHead,
                into: &bytes)
        case .stream(let produce):
            let length = response.body.length
            let framing: OutboundBody.Framing =
                length.map { .contentLength($0) }
                ?? (exchange.version == .http1_0 ? .closeDelimited : .chunked)
            if framing == .closeDelimited { keepAlive = false }
            serializer.writeHead(
                status: response.status, headerFields: response.headerFields,
                bodyLength: length.map { .known($0) } ?? .chunked, version: exchange.version,
                keepAlive: keepAlive, into: &bytes)
            let code = response.status.code
            if exchange.isHead || code < 200 || code == 204 || code == 304 {
                // No body may follow: the producer never runs.
                if !settleUnreadBody(exchange.body) { keepAlive = false }
            } else {
                // A producer may still read the request body (a streamed echo), so its fate is
                // settled when the stream ends.
                stream = OutboundBody(
                    framing: framing, produce: produce, context: exchange.context, loop: worker.loop,
                    serializer: serializer, highWaterMark: worker.configuration.writeHighWaterMark,
                    connection: self)
            }
        }
        if responses.fill(exchange.sequence, bytes: bytes, stream: stream, closeAfter: !keepAlive) {
            if receiving {
                flushAfterReceiving = true
            } else {
                flushSoon()
            }
        } else {
            // Already answered (by the request timeout): this response is never sent.
            stream?.connectionClosed()
        }
    }

    /// Writes now, unless later pipelined requests are still being answered: their handler tasks
    /// are already queued on the loop, so writing once after them sends one batch instead of a
    /// write per response. A lone request (the common case) is written at once.
    private func flushSoon() {
        guard responses.oldestPending != nil else {
            flush()
            return
        }
        guard !flushScheduled else { return }
        flushScheduled = true
        let connection = LoopBound(self, on: worker.loop)
        let accepted = worker.loop.execute {
            connection.withValueCheckedInDebug { connection in
                connection.flushScheduled = false
                connection.flush()
            }
        }
        if !accepted {
            flushScheduled = false
            flush()
        }
    }

    func flush() {
        guard !isClosed, !closingAfterWrites, activeStream == nil else { return }
        if responses.takeContinue() { writeContinue() }
        if var only = responses.takeSingleReady() {
            // The common case, one response ready and nothing behind it: no batch to build.
            if only.stream == nil {
                // Taken out of the slot so that, once written, the buffer is unshared and kept.
                writeWhole(only.bytes.take() ?? [], context: only.context, closeAfter: only.closeAfter)
            } else {
                write([only], bytes: only.bytes ?? [])
            }
            return
        }
        let ready = responses.takeReady()
        guard !ready.isEmpty else { return }
        var batch: [UInt8] = []
        batch.reserveCapacity(ready.reduce(0) { $0 + ($1.bytes?.count ?? 0) })
        for slot in ready { batch.append(contentsOf: slot.bytes ?? []) }
        write(ready, bytes: batch)
    }

    /// Writes one response that is whole in its slot: ``write(_:bytes:)`` without the arrays,
    /// for the request after request of a keep-alive connection.
    ///
    /// What its completion needs waits in ``wholeWrites``, so the completion captures the
    /// connection alone and costs no closure context: writes complete in order.
    private func writeWhole(_ bytes: consuming [UInt8], context: RequestContext?, closeAfter: Bool) {
        lastActivity = clock()
        wholeWrites.append((context, closeAfter))
        transport.write(bytes) { [self] error in
            let (context, closeAfter) = wholeWrites.removeFirst()
            context?.responseFinished(delivered: error == nil)
            written(error: error, closeAfter: closeAfter)
        }
        // The transport copied what the kernel did not take, so the buffer can hold the next
        // response; a large one is not kept.
        if bytes.capacity <= Self.maxSpareResponseBuffer {
            bytes.removeAll(keepingCapacity: true)
            spareResponseBuffer = bytes
        }
    }

    /// The buffer the next response is serialized into: the last one written, if it was kept.
    private func takeSpareResponseBuffer() -> [UInt8] {
        var buffer: [UInt8] = []
        swap(&buffer, &spareResponseBuffer)
        return buffer
    }

    /// Writes the serialized `slots`; the last may be followed by its streamed body, whose
    /// producer starts once its head is queued.
    private func write(_ slots: [ResponseQueue.Slot], bytes: [UInt8]) {
        let stream = slots.last?.stream
        // A streamed response is finished (and may close the connection) when its body ends.
        let finished = stream == nil ? slots : slots.dropLast()
        let contexts = finished.compactMap(\.context)
        let closeAfter = finished.contains { $0.closeAfter }
        if let stream, let slot = slots.last { activeStream = (stream, slot) }
        lastActivity = clock()
        transport.write(bytes) { [weak self] error in
            // Runs synchronously inside `write` when the kernel took every byte, else from the
            // write callback: either way it marks the responses' last bytes as sent.
            for context in contexts { context.responseFinished(delivered: error == nil) }
            self?.written(error: error, closeAfter: closeAfter)
        }
        if let stream, !isClosed { stream.start() }
    }

    private func written(error: UVError?, closeAfter: Bool) {
        if error != nil || closeAfter {
            close()
            return
        }
        if closingAfterWrites {
            if transport.pendingWriteBytes == 0 { close() }
            return
        }
        lastActivity = clock()
        activeStream?.body.writeProgressed()
        applyBackpressure()
        closeIfDone()
    }

    func writeContinue() {
        var interim: [UInt8] = []
        worker.serializer.writeInterim(.continue, into: &interim)
        transport.write(interim) { [weak self] error in
            // Like any write, taking it may bring the unsent bytes back under the high-water mark.
            self?.written(error: error, closeAfter: false)
        }
    }
}

extension HTTPConnection: OutboundBodyConnection {
    func writeBodyBytes(_ bytes: [UInt8], prefix: [UInt8], suffix: [UInt8], completion: @escaping (UVError?) -> Void) {
        lastActivity = clock()
        transport.write(bytes, prefix: prefix, suffix: suffix) { [weak self] error in
            completion(error)
            self?.written(error: error, closeAfter: false)
        }
    }

    var unsentBytes: Int { transport.pendingWriteBytes }

    func outboundBodyEnded(_ body: OutboundBody, failed: Bool) {
        guard let (active, slot) = activeStream, active === body else { return }
        activeStream = nil
        // After a failed producer the body cannot be ended cleanly: the client must see the
        // connection close at once.
        if failed {
            close()
            return
        }
        // A body delimited by the close, or the last on the connection, is complete: close once
        // the client took it (its head, when the producer wrote nothing, may still be unsent).
        if active.framing == .closeDelimited || slot.closeAfter || !settleUnreadBody(slot.requestBody) {
            closeAfterWrites()
            return
        }
        flush()
        applyBackpressure()
        closeIfDone()
    }
}
