import LoopworkUV
import Testing

/// Runs `body` on the loop and returns what it delivers through the continuation.
private func onLoop<T: Sendable>(_ loop: EventLoop, _ body: @escaping @Sendable (CheckedContinuation<T, Never>) -> Void)
    async -> T
{
    await withCheckedContinuation { continuation in
        loop.execute { body(continuation) }
    }
}

/// Keeps loop-bound objects alive between jobs of a test; touched only on the loop.
private final class Keep: @unchecked Sendable {
    // @unchecked: only mutated from jobs and callbacks of the one loop a test uses.
    var listener: TCPListener?
    var connections: [TCPConnection] = []
}

@Suite("TCP")
struct TCPTests {
    @Test func echoRoundTripWithSeveralClients() async throws {
        let server = try EventLoop(name: "echo-server")
        let client = try EventLoop(name: "echo-client")
        let keep = Keep()
        let port: Int = await onLoop(server) { continuation in
            do {
                keep.listener = try TCPListener.listen(on: server, host: "127.0.0.1", port: 0) { connection in
                    keep.connections.append(connection)
                    connection.startReading(
                        onBytes: { bytes in connection.write(Array(bytes)) }, onEnd: { _ in connection.close() })
                }
                continuation.resume(returning: keep.listener?.localPort ?? 0)
            } catch {
                continuation.resume(returning: 0)
            }
        }
        #expect(port > 0)
        let clients = Keep()
        let replies: [String] = await withTaskGroup(of: String.self) { group in
            for index in 0..<5 {
                group.addTask {
                    await onLoop(client) { continuation in
                        TCPConnection.connect(on: client, host: "127.0.0.1", port: port) { result in
                            guard case .success(let connection) = result else {
                                continuation.resume(returning: "connect failed")
                                return
                            }
                            clients.connections.append(connection)
                            var received: [UInt8] = []
                            let message = "hello \(index)"
                            connection.startReading(
                                onBytes: { bytes in
                                    received += bytes
                                    if received.count == message.utf8.count {
                                        connection.close()
                                        continuation.resume(returning: String(decoding: received, as: UTF8.self))
                                    }
                                }, onEnd: { _ in })
                            connection.write(Array(message.utf8))
                        }
                    }
                }
            }
            var all: [String] = []
            for await reply in group { all.append(reply) }
            return all
        }
        #expect(replies.sorted() == (0..<5).map { "hello \($0)" })
        await client.shutdownGracefully()
        await server.shutdownGracefully()
        #expect(client.closeStatus == 0)
        #expect(server.closeStatus == 0)
    }

    @Test func writeCompletesOncePerWriteAndFailsWhenThePeerIsGone() async throws {
        let loop = try EventLoop()
        let keep = Keep()
        let outcome: (successes: Int, failures: Int, calls: Int) = await onLoop(loop) { continuation in
            do {
                keep.listener = try TCPListener.listen(on: loop, host: "127.0.0.1", port: 0) { accepted in
                    // The peer vanishes at once.
                    accepted.close()
                }
                guard let port = keep.listener?.localPort else { return }
                TCPConnection.connect(on: loop, host: "127.0.0.1", port: port) { result in
                    guard case .success(let connection) = result else { return }
                    keep.connections.append(connection)
                    var successes = 0
                    var failures = 0
                    var calls = 0
                    var finished = false
                    let chunk = [UInt8](repeating: 7, count: 256 * 1024)
                    func writeMore() {
                        connection.write(chunk) { error in
                            calls += 1
                            if error == nil { successes += 1 } else { failures += 1 }
                            if error != nil, !finished {
                                finished = true
                                connection.close {
                                    continuation.resume(returning: (successes, failures, calls))
                                }
                            } else if !finished {
                                writeMore()
                            }
                        }
                    }
                    writeMore()
                }
            } catch {
                continuation.resume(returning: (0, 0, 0))
            }
        }
        #expect(outcome.failures >= 1, "writing to a closed peer ends in an error")
        #expect(outcome.calls == outcome.successes + outcome.failures)
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func pendingWritesCompleteWithCancelledWhenClosed() async throws {
        let loop = try EventLoop()
        let keep = Keep()
        let results: [String] = await onLoop(loop) { continuation in
            do {
                keep.listener = try TCPListener.listen(on: loop, host: "127.0.0.1", port: 0) { accepted in
                    keep.connections.append(accepted)  // never reads: the client's writes pile up
                }
                guard let port = keep.listener?.localPort else { return }
                TCPConnection.connect(on: loop, host: "127.0.0.1", port: port) { result in
                    guard case .success(let connection) = result else { return }
                    var results: [String] = []
                    let big = [UInt8](repeating: 1, count: 8 * 1024 * 1024)
                    for _ in 0..<3 {
                        connection.write(big) { error in
                            results.append(error == nil ? "ok" : (error?.isCancelled == true ? "cancelled" : "error"))
                        }
                    }
                    #expect(connection.pendingWriteBytes > 0)
                    connection.close { continuation.resume(returning: results) }
                }
            } catch {
                continuation.resume(returning: [])
            }
        }
        #expect(results.count == 3, "each write completes exactly once")
        #expect(results.contains("cancelled"))
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func shutdownClosesOpenConnectionsAndListener() async throws {
        let loop = try EventLoop()
        let keep = Keep()
        let connected: Bool = await onLoop(loop) { continuation in
            do {
                keep.listener = try TCPListener.listen(on: loop, host: "127.0.0.1", port: 0) { accepted in
                    keep.connections.append(accepted)
                    accepted.startReading(onBytes: { _ in }, onEnd: { _ in })
                }
                guard let port = keep.listener?.localPort else { return }
                TCPConnection.connect(on: loop, host: "127.0.0.1", port: port) { result in
                    if case .success(let connection) = result { keep.connections.append(connection) }
                    _ = try? loop.scheduleTimer(after: .seconds(3600)) {}
                    continuation.resume(returning: true)
                }
            } catch {
                continuation.resume(returning: false)
            }
        }
        #expect(connected)
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0, "every handle was closed before uv_loop_close")
    }

    @Test func bindingATakenPortNamesTheError() async throws {
        let loop = try EventLoop()
        let keep = Keep()
        let message: String = await onLoop(loop) { continuation in
            do {
                keep.listener = try TCPListener.listen(on: loop, host: "127.0.0.1", port: 0) { _ in }
                _ = try TCPListener.listen(on: loop, host: "127.0.0.1", port: keep.listener?.localPort ?? 0) { _ in }
                continuation.resume(returning: "bound twice")
            } catch {
                continuation.resume(returning: "\(error)")
            }
        }
        #expect(message.contains("EADDRINUSE"))
        #expect(message.contains("address already in use"))
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func reusePortLetsTwoLoopsListenOnOnePort() async throws {
        let first = try EventLoop()
        let second = try EventLoop()
        let keepFirst = Keep()
        let keepSecond = Keep()
        let port: Int = await onLoop(first) { continuation in
            keepFirst.listener = try? TCPListener.listen(on: first, host: "127.0.0.1", port: 0, reusePort: true) {
                $0.close()
            }
            continuation.resume(returning: keepFirst.listener?.localPort ?? 0)
        }
        let samePort: Int = await onLoop(second) { continuation in
            keepSecond.listener = try? TCPListener.listen(on: second, host: "127.0.0.1", port: port, reusePort: true) {
                $0.close()
            }
            continuation.resume(returning: keepSecond.listener?.localPort ?? -1)
        }
        #expect(port > 0)
        #expect(samePort == port)
        await first.shutdownGracefully()
        await second.shutdownGracefully()
        #expect(first.closeStatus == 0 && second.closeStatus == 0)
    }

    @Test func listensOnIPv6LoopbackWhenAvailable() async throws {
        let loop = try EventLoop()
        let keep = Keep()
        let outcome: String = await onLoop(loop) { continuation in
            do {
                keep.listener = try TCPListener.listen(on: loop, host: "::1", port: 0) { accepted in
                    keep.connections.append(accepted)
                    accepted.startReading(onBytes: { accepted.write(Array($0)) }, onEnd: { _ in accepted.close() })
                }
            } catch {
                // No IPv6 on this machine: nothing to test, and say so.
                continuation.resume(returning: "unavailable: \(error)")
                return
            }
            TCPConnection.connect(on: loop, host: "::1", port: keep.listener?.localPort ?? 0) { result in
                guard case .success(let connection) = result else {
                    continuation.resume(returning: "connect failed")
                    return
                }
                connection.startReading(
                    onBytes: { bytes in
                        connection.close()
                        continuation.resume(returning: String(decoding: Array(bytes), as: UTF8.self))
                    }, onEnd: { _ in })
                connection.write(Array("six".utf8))
            }
        }
        if outcome.hasPrefix("unavailable") {
            withKnownIssue("IPv6 loopback is not configured on this machine: \(outcome)") { throw IPv6Unavailable() }
        } else {
            #expect(outcome == "six")
        }
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }
}

private struct IPv6Unavailable: Error {}
