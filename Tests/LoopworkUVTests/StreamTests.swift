import LoopworkUV
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Loop-bound state of one test, created and used only on that test's loop thread.
private final class Pair: @unchecked Sendable {
    // @unchecked: every property is read and written only by jobs and callbacks of one loop.
    var listener: TCPListener?
    var server: TCPConnection?
    var client: TCPConnection?
    var log: [String] = []
}

/// Listens on an ephemeral port of `loop`, connects a client to it and calls `ready` on the loop
/// once both ends exist.
private func connectPair(on loop: EventLoop, _ pair: Pair, ready: @escaping () -> Void) {
    var pending = 2
    func arrived() {
        pending -= 1
        if pending == 0 { ready() }
    }
    do {
        pair.listener = try TCPListener.listen(on: loop, host: "127.0.0.1", port: 0) { accepted in
            pair.server = accepted
            arrived()
        }
    } catch {
        pair.log.append("listen failed: \(error)")
        ready()
        return
    }
    TCPConnection.connect(on: loop, host: "127.0.0.1", port: pair.listener?.localPort ?? 0) { result in
        switch result {
        case .success(let connection):
            pair.client = connection
            arrived()
        case .failure(let error):
            pair.log.append("connect failed: \(error)")
            ready()
        }
    }
}

@Suite("TCP streams")
struct StreamTests {
    @Test func smallWriteOnAnIdleConnectionCompletesBeforeWriteReturns() async throws {
        let loop = try EventLoop()
        let pair = Pair()
        let log: [String] = await withCheckedContinuation { continuation in
            loop.execute {
                connectPair(on: loop, pair) {
                    guard let client = pair.client else { return continuation.resume(returning: pair.log) }
                    client.write(Array("ping".utf8)) { error in pair.log.append(error == nil ? "completed" : "failed") }
                    pair.log.append("returned")
                    continuation.resume(returning: pair.log)
                }
            }
        }
        #expect(log == ["completed", "returned"], "uv_try_write took everything: no callback would come")
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    /// Many framed writes while the reader is not reading yet: the kernel takes some at once,
    /// the rest queue (from any offset inside prefix, bytes or suffix); the reader then gets
    /// every byte in order and each write completes once.
    @Test func framedWritesArriveWholeAndInOrderWhenTheKernelTakesOnlyPart() async throws {
        let loop = try EventLoop()
        let pair = Pair()
        let writes = 256
        let block = [UInt8](repeating: UInt8(ascii: "b"), count: 60_000)
        let (received, completions): ([UInt8], Int) = await withCheckedContinuation { continuation in
            loop.execute {
                connectPair(on: loop, pair) {
                    guard let client = pair.client, let server = pair.server else {
                        return continuation.resume(returning: ([], 0))
                    }
                    var completed = 0
                    for index in 0..<writes {
                        server.write(block, prefix: Array("<\(index)>".utf8), suffix: Array("|".utf8)) { error in
                            if error == nil { completed += 1 }
                        }
                    }
                    server.shutdownWrite()
                    var received: [UInt8] = []
                    client.startReading(
                        onBytes: { received += $0 },
                        onEnd: { _ in
                            client.close { continuation.resume(returning: (received, completed)) }
                        })
                }
            }
        }
        var expected: [UInt8] = []
        for index in 0..<writes { expected += Array("<\(index)>".utf8) + block + Array("|".utf8) }
        #expect(received.count == expected.count)
        #expect(received == expected)
        #expect(completions == writes)
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func halfCloseDeliversEndOfFileOnceAndTheOtherDirectionStillWorks() async throws {
        let loop = try EventLoop()
        let pair = Pair()
        let log: [String] = await withCheckedContinuation { continuation in
            loop.execute {
                connectPair(on: loop, pair) {
                    guard let client = pair.client, let server = pair.server else {
                        return continuation.resume(returning: pair.log)
                    }
                    client.startReading(
                        onBytes: { bytes in
                            pair.log.append("client got \(String(decoding: Array(bytes), as: UTF8.self))")
                            client.close { continuation.resume(returning: pair.log) }
                        }, onEnd: { error in pair.log.append("client end \(error.map { $0.name } ?? "eof")") })
                    server.startReading(
                        onBytes: { bytes in
                            pair.log.append("server got \(String(decoding: Array(bytes), as: UTF8.self))")
                        },
                        onEnd: { error in
                            pair.log.append("server end \(error.map { $0.name } ?? "eof")")
                            server.write(Array("bye".utf8))
                        })
                    client.write(Array("hi".utf8))
                    client.shutdownWrite { error in pair.log.append("shutdown \(error == nil ? "ok" : "failed")") }
                }
            }
        }
        #expect(
            log == ["server got hi", "shutdown ok", "server end eof", "client got bye", "client end ECANCELED"]
                || log == ["shutdown ok", "server got hi", "server end eof", "client got bye", "client end ECANCELED"])
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func stopReadingPausesUntilResumed() async throws {
        let loop = try EventLoop()
        let pair = Pair()
        let log: [String] = await withCheckedContinuation { continuation in
            loop.execute {
                connectPair(on: loop, pair) {
                    guard let client = pair.client, let server = pair.server else {
                        return continuation.resume(returning: pair.log)
                    }
                    var resumed = false
                    server.startReading(
                        onBytes: { bytes in
                            pair.log.append("\(resumed ? "after" : "paused") \(bytes.count)")
                            continuation.resume(returning: pair.log)
                        }, onEnd: { _ in })
                    server.stopReading()
                    client.write(Array("data".utf8)) { _ in
                        // The bytes are in the server's socket; give the loop a few turns to (not) read them.
                        _ = try? loop.scheduleTimer(after: .milliseconds(20)) {
                            resumed = true
                            server.resumeReading()
                        }
                    }
                }
            }
        }
        #expect(log == ["after 4"])
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func closingAReadingConnectionEndsItOnceWithCancelled() async throws {
        let loop = try EventLoop()
        let pair = Pair()
        let log: [String] = await withCheckedContinuation { continuation in
            loop.execute {
                connectPair(on: loop, pair) {
                    guard let server = pair.server else { return continuation.resume(returning: pair.log) }
                    server.startReading(
                        onBytes: { _ in },
                        onEnd: { error in
                            pair.log.append("end \(error?.isCancelled == true ? "cancelled" : "other")")
                        })
                    #expect(server.remoteAddress?.hasPrefix("127.0.0.1:") == true)
                    server.close { pair.log.append("closed") }
                    server.close {
                        pair.log.append("closed again")
                        continuation.resume(returning: pair.log)
                    }
                    #expect(server.isClosed)
                    server.write([1]) { error in
                        pair.log.append("write \(error?.isCancelled == true ? "cancelled" : "other")")
                    }
                }
            }
        }
        #expect(log == ["end cancelled", "write cancelled", "closed", "closed again"])
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func bindingATakenPortIsAnAddressInUseErrorFromBind() async throws {
        let loop = try EventLoop()
        let pair = Pair()
        let error: UVError? = await withCheckedContinuation { continuation in
            loop.execute {
                do throws(UVError) {
                    pair.listener = try TCPListener.listen(on: loop, host: "127.0.0.1", port: 0) { _ in }
                    _ = try TCPListener.listen(on: loop, host: "127.0.0.1", port: pair.listener?.localPort ?? 0) { _ in
                    }
                    continuation.resume(returning: nil)
                } catch {
                    continuation.resume(returning: error)
                }
            }
        }
        #expect(error?.name == "EADDRINUSE")
        #expect(error?.operation == "uv_tcp_bind")
        #expect(error?.message == "address already in use")
        #expect(error?.description == "uv_tcp_bind failed: EADDRINUSE (address already in use)")
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }

    @Test func connectingToAClosedPortFailsWithConnectionRefused() async throws {
        let loop = try EventLoop()
        // A port bound but not listening refuses connections, and stays taken meanwhile: a port
        // freed instead could be picked by another test's socket, or by this connection itself
        // as its own source port (a TCP self-connect, which succeeds).
        let port = try #require(BoundPort())
        let error: UVError? = await withCheckedContinuation { continuation in
            loop.execute {
                TCPConnection.connect(on: loop, host: "127.0.0.1", port: port.number) { result in
                    if case .failure(let error) = result {
                        continuation.resume(returning: error)
                    } else {
                        continuation.resume(returning: nil)
                    }
                }
            }
        }
        port.close()
        #expect(error?.name == "ECONNREFUSED")
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
    }
}

/// A loopback TCP port bound by a socket that never listens.
private struct BoundPort {
    let descriptor: Int32
    let number: Int

    init?() {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(descriptor)
            return nil
        }
        self.descriptor = descriptor
        self.number = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(descriptor) }
}
