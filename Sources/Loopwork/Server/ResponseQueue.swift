/// The responses of one connection in request order: HTTP/1.1 pipelining requires answers in
/// the order requests arrived, whichever handler finishes first.
struct ResponseQueue {
    struct Slot {
        /// Serialized response bytes, `nil` while the handler is still running.
        var bytes: [UInt8]?
        /// The request whose milestones the write completes; `nil` for interim or error answers.
        var context: RequestContext?
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
        if head == slots.count, head > 0 {
            // Everything was written: start over without moving anything.
            slots.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 32, head * 2 > slots.count {
            slots.removeFirst(head)
            head = 0
        }
        slots.append(slot)
        return firstSequence + count - 1
    }

    /// Fills the slot `sequence`; returns false when it was already filled or written (a request
    /// answered by its timeout, then by its handler).
    mutating func fill(_ sequence: Int, bytes: [UInt8], closeAfter: Bool) -> Bool {
        let index = head + (sequence - firstSequence)
        guard sequence >= firstSequence, index < slots.count, slots[index].bytes == nil else { return false }
        slots[index].bytes = bytes
        slots[index].closeAfter = slots[index].closeAfter || closeAfter
        return true
    }

    /// Context of a still-queued slot, for notifying it when its answer will never be written.
    func context(of sequence: Int) -> RequestContext? {
        let index = head + (sequence - firstSequence)
        guard sequence >= firstSequence, index < slots.count else { return nil }
        return slots[index].context
    }

    /// Removes the ready slots at the front, in order.
    mutating func takeReady() -> [Slot] {
        var ready: [Slot] = []
        while head < slots.count, slots[head].bytes != nil {
            ready.append(slots[head])
            head += 1
            firstSequence += 1
        }
        return ready
    }

    /// Removes and returns the front slot when it is the only ready one (none ready behind it);
    /// `nil` otherwise, leaving the queue as it was.
    mutating func takeSingleReady() -> Slot? {
        guard head < slots.count, slots[head].bytes != nil,
              head + 1 == slots.count || slots[head + 1].bytes == nil else { return nil }
        let slot = slots[head]
        head += 1
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
