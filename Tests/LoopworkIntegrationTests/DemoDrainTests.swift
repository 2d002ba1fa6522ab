import Foundation
import Testing

/// SIGTERM under load: every request that reaches an open connection is answered, and every
/// task a `202` acknowledged has run by the time the server exits.
@Suite("Demo drain under load")
struct DemoDrainTests {
    @Test func everyRequestOnAnOpenConnectionIsAnsweredAndEveryAcknowledgedTaskRuns() async throws {
        // A drain window far longer than any client needs: the server closes each connection
        // right after answering its last request, so the window never has to end.
        let server = try await DemoServer(workers: 2, extraArguments: ["--drain-window-ms", "20000"])
        let clients = 16
        let load = TasksLoad(port: server.port, clients: clients)
        // Ordering, not time: SIGTERM goes out once every client has been answered 20 times
        // and is still sending.
        await load.waitUntilEveryClientWasAcknowledged(20)
        #expect(await server.stop() == 0)
        let results = await load.finish()
        let acknowledged = results.reduce(0) { $0 + $1.acknowledged }
        #expect(results.allSatisfy { $0.ending == .answeredWithClose }, "\(results.map(\.ending))")
        #expect(results.filter { $0.ending == .cut }.count == 0, "requests cut")
        let log = server.output.text
        let totals = try #require(
            log.split(separator: "\n").last { $0.contains("background task totals") },
            "no totals line in:\n\(log.suffix(2000))")
        func count(_ key: String) -> Int? {
            guard let range = totals.range(of: #"\b\#(key)=(\d+)"#, options: .regularExpression) else { return nil }
            return Int(totals[range].split(separator: "=").last ?? "")
        }
        #expect(count("scheduled") == acknowledged, "\(totals), acknowledged=\(acknowledged)")
        #expect(count("completed") == acknowledged, "\(totals), acknowledged=\(acknowledged)")
        #expect(count("cancelled") == 0 && count("abandoned") == 0 && count("discarded") == 0)
    }
}

/// Keep-alive clients, each on a thread of its own, posting `/tasks` one request at a time until
/// an answer says `Connection: close` or the connection ends under a request (a cut).
// @unchecked: `state` is read and written only inside `withState`, under `lock` (an NSLock, which
// ThreadSanitizer understands; it does not see Synchronization.Mutex's futex on Linux).
final class TasksLoad: @unchecked Sendable {
    enum Ending: Sendable, Equatable {
        case running, answeredWithClose, cut
        case failed(String)
    }

    struct ClientResult: Sendable {
        var acknowledged = 0
        var ending = Ending.running
    }

    private struct State {
        var results: [ClientResult]
        var finished = 0
        var acknowledgedWaiter: (count: Int, continuation: CheckedContinuation<Void, Never>)?
        var finishWaiter: CheckedContinuation<[ClientResult], Never>?
    }

    private let lock = NSLock()
    private var state: State

    private func withState<T>(_ body: (inout State) -> T) -> T {
        lock.withLock { body(&state) }
    }

    init(port: Int, clients: Int) {
        state = State(results: Array(repeating: ClientResult(), count: clients))
        for index in 0..<clients {
            Thread { [self] in run(index, port: port) }.start()
        }
    }

    func waitUntilEveryClientWasAcknowledged(_ count: Int) async {
        await withCheckedContinuation { continuation in
            let now = withState { state in
                if Self.everyClient(state, reached: count) { return true }
                state.acknowledgedWaiter = (count, continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func finish() async -> [ClientResult] {
        await withCheckedContinuation { continuation in
            let results = withState { state -> [ClientResult]? in
                if state.finished == state.results.count { return state.results }
                state.finishWaiter = continuation
                return nil
            }
            if let results { continuation.resume(returning: results) }
        }
    }

    private static func everyClient(_ state: State, reached count: Int) -> Bool {
        state.results.allSatisfy { $0.acknowledged >= count || $0.ending != .running }
    }

    private func run(_ index: Int, port: Int) {
        let ending: Ending
        do {
            ending = try exchange(index, socket: try BlockingSocket(port: port))
        } catch {
            ending = .failed("\(error)")
        }
        withState { state in
            state.results[index].ending = ending
            state.finished += 1
            return resumeReadyWaiters(&state)
        }()
    }

    private func exchange(_ index: Int, socket: BlockingSocket) throws -> Ending {
        let request = Array("POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".utf8)
        while true {
            guard socket.send(request) else { return .cut }
            guard let response = socket.receiveResponse() else { return .cut }
            guard response.head.hasPrefix("HTTP/1.1 202") else { return .failed(response.head) }
            withState { state in
                state.results[index].acknowledged += 1
                return resumeReadyWaiters(&state)
            }()
            if response.head.lowercased().contains("\r\nconnection: close\r\n") { return .answeredWithClose }
        }
    }

    /// Returns the resumptions the state now allows, to run outside the lock.
    private func resumeReadyWaiters(_ state: inout State) -> () -> Void {
        var actions: [() -> Void] = []
        if let waiter = state.acknowledgedWaiter, Self.everyClient(state, reached: waiter.count) {
            state.acknowledgedWaiter = nil
            actions.append { waiter.continuation.resume() }
        }
        if state.finished == state.results.count, let waiter = state.finishWaiter {
            state.finishWaiter = nil
            let results = state.results
            actions.append { waiter.resume(returning: results) }
        }
        return { for action in actions { action() } }
    }
}

/// A blocking client socket for one thread: sends requests and reads whole responses framed by
/// `Content-Length`.
final class BlockingSocket {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int) throws {
        fd = try connectToLoopback(port: port)
    }

    deinit { Glibc.close(fd) }

    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// The next whole response, or `nil` when the connection ended (or failed) before it did.
    func receiveResponse() -> (head: String, body: [UInt8])? {
        let separator = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while true {
            if headEnd == nil, let range = buffer.firstRange(of: separator) { headEnd = range.upperBound }
            if let end = headEnd {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                let length =
                    head.lowercased().split(separator: "\r\n")
                    .first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if buffer.count >= end + length {
                    let body = Array(buffer[end..<(end + length)])
                    buffer.removeFirst(end + length)
                    return (head, body)
                }
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { return nil }
            buffer += chunk[..<received]
        }
    }
}
