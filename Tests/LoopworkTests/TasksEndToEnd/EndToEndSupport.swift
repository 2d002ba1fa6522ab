import Logging
import Loopwork
import LoopworkTesting
import LoopworkUV
import Testing

// Helpers for the end-to-end task tests: they drive a real server over TCP, so the request
// milestones (handler returned, last byte written, client gone) come from the server itself.

/// A value a handler hands to the test (a task handle, say), awaitable until it is set.
final class Captured<Value: Sendable>: Sendable {
    private let state = Locked<(value: Value?, waiters: [CheckedContinuation<Value, Never>])>((nil, []))

    func set(_ value: Value) {
        let waiters = state.withLock { state in
            state.value = value
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// Waits until the value is set.
    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let current: Value? = state.withLock { state in
                    if state.value == nil { state.waiters.append(continuation) }
                    return state.value
                }
                if let current { continuation.resume(returning: current) }
            }
        }
    }
}

/// Counts how often something ran.
final class RunCounter: Sendable {
    private let count = Locked(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

enum EndToEnd {
    /// One worker: every request and every task of a test shares one loop, so a stalled loop
    /// shows as a stalled request.
    static let oneWorker = AppConfiguration(workers: 1)

    /// A minimal HTTP/1.1 request.
    static func request(_ path: String, method: String = "GET", close: Bool = false) -> String {
        "\(method) \(path) HTTP/1.1\r\nHost: e2e\r\n\(close ? "Connection: close\r\n" : "")Content-Length: 0\r\n\r\n"
    }

    /// Reads `count` responses from `socket` (fewer when the server closes first).
    static func read(_ socket: TestSocket, responses count: Int = 1) async throws -> [TestResponse] {
        var reader = ResponseReader()
        var responses: [TestResponse] = []
        while responses.count < count {
            if let (response, _) = try reader.next() {
                responses.append(response)
                continue
            }
            let chunk = try await socket.receive()
            if chunk.isEmpty { break }
            reader.append(chunk)
        }
        return responses
    }

    /// Sends one request on a fresh connection and returns its response.
    static func fetch(_ port: Int, _ method: String = "GET", _ path: String) async throws -> TestResponse {
        let socket = try TestSocket(port: port)
        try await socket.send(request(path, method: method))
        return try #require(try await read(socket).first)
    }
}

struct EndToEndFailure: Error, CustomStringConvertible {
    let reason: String
    init(_ reason: String) { self.reason = reason }
    var description: String { "EndToEndFailure(\(reason))" }
}

/// Captured log records a test can wait for, to order itself after something the server did
/// (a connection closed, shutdown began) without sleeping.
final class EndToEndLogs: Sendable {
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let state = Locked<(entries: [Entry], waiters: [(String, Int, CheckedContinuation<Void, Never>)])>(([], []))

    var logger: Logger {
        var logger = Logger(label: "loopwork-e2e") { _ in EndToEndLogHandler(logs: self) }
        logger.logLevel = .trace
        return logger
    }

    func record(_ entry: Entry) {
        let ready = state.withLock { state in
            state.entries.append(entry)
            let entries = state.entries
            let ready = state.waiters.filter { waiter in entries.count(where: { $0.message == waiter.0 }) >= waiter.1 }
            state.waiters.removeAll { waiter in entries.count(where: { $0.message == waiter.0 }) >= waiter.1 }
            return ready.map(\.2)
        }
        for waiter in ready { waiter.resume() }
    }

    func entries(_ message: String) -> [Entry] {
        state.withLock { $0.entries.filter { $0.message == message } }
    }

    var entries: [Entry] { state.withLock { $0.entries } }

    /// Waits until `message` was logged at least `count` times in all.
    func waitFor(_ message: String, count: Int = 1) async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.entries.count(where: { $0.message == message }) >= count { return true }
                state.waiters.append((message, count, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }
}

struct EndToEndLogHandler: LogHandler {
    let logs: EndToEndLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        logs.record(
            .init(level: event.level, message: event.message.description, metadata: merged.mapValues { "\($0)" }))
    }
}
