/// The responses of one connection in request order: HTTP/1.1 pipelining requires answers in
/// the order requests arrived, whichever handler finishes first.
struct ResponseQueue {
    struct Slot {
        /// Serialized response bytes (a streamed response's head), `nil` while the handler runs.
        var bytes: [UInt8]?
        /// The streamed body that follows `bytes`; the responses behind it wait until it ends.
        var stream: OutboundBody?
        /// The request whose milestones the write completes; `nil` for error answers.
        var context: RequestContext?
        /// The request's body, drained or refused once its response is out.
        var requestBody: InboundBody?
        /// The handler asked for the body of a client that waits for `100 Continue` while an
        /// earlier response was still owed: the interim answer goes out when this slot is first.
        var wantsContinue = false
        /// Close the connection once this response is written.
        var closeAfter: Bool
        /// When the request was dispatched, for the request timeout.
        var startedAt: ContinuousClock.Instant
    }

    private var slots: [Slot] = []
    private var head = 0
    /// The sequence number of `slots[head]`.
    private var firstSequence = 0

    var isEmpty: Bool { head == slots.count }
    var count: Int { slots.count - head }

    /// Appends a slot and returns its sequence number.
    mutating func append(_ slot: Slot) -> Int {
        // Taking the last slot empties the array; taken slots before others are compacted away.
        if head > 32, head * 2 > slots.count {
            slots.removeFirst(head)
            head = 0
        }
        slots.append(slot)
        return firstSequence + count - 1
    }

    private func index(of sequence: Int) -> Int? {
        let index = head + (sequence - firstSequence)
        guard sequence >= firstSequence, index < slots.count else { return nil }
        return index
    }

    /// Fills the slot `sequence`; returns false when it was already filled or written (a request
    /// answered by its timeout, then by its handler).
    mutating func fill(_ sequence: Int, bytes: [UInt8], stream: OutboundBody? = nil, closeAfter: Bool) -> Bool {
        guard let index = index(of: sequence), slots[index].bytes == nil else { return false }
        slots[index].bytes = bytes
        slots[index].stream = stream
        slots[index].closeAfter = slots[index].closeAfter || closeAfter
        return true
    }

    /// Records the body of slot `sequence` once it became a stream.
    mutating func setRequestBody(_ body: InboundBody, for sequence: Int) {
        guard let index = index(of: sequence) else { return }
        slots[index].requestBody = body
    }

    /// Whether `sequence` is the first response owed (nothing before it is still to be written).
    func isFirst(_ sequence: Int) -> Bool { sequence == firstSequence && head < slots.count }

    /// Whether `sequence` is the last slot: no request was taken after it.
    func isLast(_ sequence: Int) -> Bool { sequence == firstSequence + count - 1 }

    /// Marks slot `sequence` as owing a `100 Continue` once it is first.
    mutating func requestContinue(_ sequence: Int) {
        guard let index = index(of: sequence) else { return }
        slots[index].wantsContinue = true
    }

    /// Clears and returns the front slot's owed `100 Continue`, if it is still waiting for its handler.
    mutating func takeContinue() -> Bool {
        guard head < slots.count, slots[head].bytes == nil, slots[head].wantsContinue else { return false }
        slots[head].wantsContinue = false
        return true
    }

    /// Removes the ready slots at the front, in order, up to and including the first streamed one
    /// (whatever follows a stream waits for its end).
    mutating func takeReady() -> [Slot] {
        var ready: [Slot] = []
        while head < slots.count, slots[head].bytes != nil {
            ready.append(takeFront())
            if ready[ready.count - 1].stream != nil { break }
        }
        return ready
    }

    /// Removes and returns the front slot when it is the only ready one (none ready behind it),
    /// or a streamed one; `nil` otherwise, leaving the queue as it was.
    mutating func takeSingleReady() -> Slot? {
        guard head < slots.count, slots[head].bytes != nil,
            slots[head].stream != nil || head + 1 == slots.count || slots[head + 1].bytes == nil
        else { return nil }
        return takeFront()
    }

    /// Removes the front slot. What it references (its bytes, its request's context and body)
    /// is let go of now, not when the slot is next reused: a keep-alive connection waiting for
    /// its next request holds nothing of the last.
    private mutating func takeFront() -> Slot {
        let slot = slots[head]
        if head + 1 == slots.count {
            slots.removeAll(keepingCapacity: true)
            head = 0
        } else {
            slots[head].bytes = []
            slots[head].stream = nil
            slots[head].context = nil
            slots[head].requestBody = nil
            head += 1
        }
        firstSequence += 1
        return slot
    }

    /// Removes every slot; used when the connection closes.
    mutating func removeAll() -> [Slot] {
        let remaining = Array(slots[head...])
        firstSequence += remaining.count
        slots.removeAll()
        head = 0
        return remaining
    }

    /// The oldest slot still waiting for its handler.
    var oldestPending: (sequence: Int, slot: Slot)? {
        var index = head
        while index < slots.count {
            if slots[index].bytes == nil { return (firstSequence + index - head, slots[index]) }
            index += 1
        }
        return nil
    }
}
