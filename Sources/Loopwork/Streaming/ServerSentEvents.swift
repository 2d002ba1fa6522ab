import HTTPTypes

/// One Server-Sent Event (the `text/event-stream` format of the WHATWG HTML standard, §9.2).
public struct ServerSentEvent: Sendable, Equatable {
    /// The event's data; each line becomes its own `data:` field, so a client rebuilds it with
    /// the line breaks (CR, LF or CRLF are all sent as LF).
    public var data: String
    /// The event type (`event:`); clients dispatch `message` when it is `nil`.
    public var event: String?
    /// The event id (`id:`), which a reconnecting client sends back as `Last-Event-ID`.
    public var id: String?
    /// How long a client waits before reconnecting (`retry:`), in milliseconds.
    public var retry: Int?

    /// Creates an event. Line breaks in `event` and `id` would end their field early, so they
    /// are removed.
    public init(data: String, event: String? = nil, id: String? = nil, retry: Int? = nil) {
        self.data = data
        self.event = event.map(Self.singleLine)
        self.id = id.map(Self.singleLine)
        self.retry = retry.map { max(0, $0) }
    }

    /// The event as it goes on the wire, ending with the blank line that dispatches it.
    public var serialized: [UInt8] {
        var text = ""
        if let event { text += "event: \(event)\n" }
        if let id { text += "id: \(id)\n" }
        if let retry { text += "retry: \(retry)\n" }
        for line in Self.lines(of: data) { text += "data: \(line)\n" }
        text += "\n"
        return Array(text.utf8)
    }

    private static func singleLine(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })
    }

    /// Splits at CRLF, LF or CR, as the format's parser does; an empty text is one empty line.
    private static func lines(of text: String) -> [Substring] {
        var lines: [Substring] = []
        var start = text.startIndex
        var index = start
        while index < text.endIndex {
            let character = text[index]
            // Swift treats CRLF as one Character, so this sees each kind of break once.
            if character == "\r\n" || character == "\n" || character == "\r" {
                lines.append(text[start..<index])
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        lines.append(text[start...])
        return lines
    }
}

/// Sends events on a `text/event-stream` response; see ``Response/eventStream(heartbeat:_:)``.
public struct EventStreamWriter: Sendable {
    let body: ResponseBodyWriter

    /// Sends `event`.
    ///
    /// - Throws: ``ResponseBodyError/clientDisconnected`` once the client is gone.
    public func send(_ event: ServerSentEvent) async throws {
        try await body.write(event.serialized)
    }

    /// Sends a comment line, which clients ignore (proxies see traffic).
    public func comment(_ text: String = "") async throws {
        let line = text.unicodeScalars.filter { $0 != "\r" && $0 != "\n" }
        try await body.write(Array(":\(String(line))\n\n".utf8))
    }
}

extension Response {
    /// A `text/event-stream` response whose events `produce` sends.
    ///
    /// The stream ends when `produce` returns, or when the client goes away (the next send
    /// throws and `produce`'s task is cancelled). `Cache-Control: no-cache` keeps caches and
    /// proxies from holding events back.
    ///
    /// ```swift
    /// app.get("/ticks") { () -> Response in
    ///     .eventStream { events in
    ///         for tick in 0..<10 {
    ///             try await events.send(ServerSentEvent(data: "\(tick)", id: "\(tick)"))
    ///             try await Task.sleep(for: .seconds(1))
    ///         }
    ///     }
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - heartbeat: How often a comment line is sent beside the events, so quiet streams
    ///     survive the server's idle timeout and proxies' timeouts; `nil` for none.
    ///   - produce: Sends the events.
    public static func eventStream(
        heartbeat: Duration? = .seconds(15),
        _ produce: @escaping @Sendable (EventStreamWriter) async throws -> Void
    ) -> Response {
        let body = ResponseBody { writer in
            let events = EventStreamWriter(body: writer)
            guard let heartbeat else {
                try await produce(events)
                return
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while true {
                        try await Task.sleep(for: heartbeat)
                        try await events.comment()
                    }
                }
                try await produce(events)
                group.cancelAll()
            }
        }
        return Response(
            status: .ok,
            headerFields: [
                .contentType: "text/event-stream",
                .cacheControl: "no-cache",
            ], body: body)
    }
}
