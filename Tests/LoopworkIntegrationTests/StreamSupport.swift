import Foundation

/// A blocking TCP socket connected to 127.0.0.1:`port`, with a 60 s receive timeout so that a
/// test never hangs on a server that stopped answering.
func connectToLoopback(port: Int, receiveBuffer: Int32? = nil) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    if var size = receiveBuffer {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    var timeout = timeval(tv_sec: 60, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else {
        let failure = errno
        Glibc.close(fd)
        throw DemoServerError(message: "connect failed: \(failure)")
    }
    return fd
}

/// A blocking TCP client for large and slow transfers; each call runs on a thread of its own so
/// the test's task never blocks the cooperative pool. One test uses a socket at a time.
// @unchecked: the descriptor is set once; calls are awaited one after another by the one test
// that owns the socket, so no two threads use it at once.
final class StreamSocket: @unchecked Sendable {
    private let fd: Int32
    private var closed = false

    init(port: Int, receiveBuffer: Int32? = nil) throws {
        fd = try connectToLoopback(port: port, receiveBuffer: receiveBuffer)
    }

    deinit { if !closed { Glibc.close(fd) } }

    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    func send(_ text: String) async throws { try await send(Array(text.utf8), times: 1) }

    /// Sends `bytes` `times` times.
    func send(_ bytes: [UInt8], times: Int) async throws {
        try await Self.blocking { [fd] in
            for _ in 0..<times {
                var offset = 0
                while offset < bytes.count {
                    let sent = bytes.withUnsafeBytes {
                        Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
                    }
                    guard sent > 0 else { throw DemoServerError(message: "send failed: \(errno)") }
                    offset += sent
                }
            }
        }
    }

    /// Receives up to `count` bytes in one call; empty at the end of the stream.
    func receive(upTo count: Int = 65_536) async throws -> [UInt8] {
        try await Self.blocking { [fd] in
            var buffer = [UInt8](repeating: 0, count: count)
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, count, 0) }
            guard received >= 0 else { throw DemoServerError(message: "recv failed: \(errno)") }
            return Array(buffer[..<received])
        }
    }

    /// Receives until `text` has arrived, returning everything received.
    func receive(until text: String) async throws -> String {
        var received: [UInt8] = []
        while !String(decoding: received, as: UTF8.self).contains(text) {
            let chunk = try await receive()
            guard !chunk.isEmpty else { break }
            received += chunk
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Receives and counts bytes until the peer closes; `pace` sleeps between reads (a slow client).
    func drain(pace: useconds_t = 0, limit: Int = .max) async throws -> Int {
        try await Self.blocking { [fd] in
            var total = 0
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while total < limit {
                let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard received > 0 else { break }
                total += received
                if pace > 0 { usleep(pace) }
            }
            return total
        }
    }

    /// Resets the connection (SO_LINGER 0), as a client that crashed would.
    func abort() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        closed = true
        Glibc.close(fd)
    }
}

/// Samples a process's resident memory on a thread of its own until stopped.
final class MemorySampler: @unchecked Sendable {
    // @unchecked: `highest` and `running` are only touched while holding `lock`.
    private let pid: Int32
    private let lock = NSLock()
    private var highest = 0
    private var running = true

    init(pid: Int32) {
        self.pid = pid
        Thread { [self] in
            while lock.withLock({ running }) {
                let rss = Self.residentBytes(of: pid)
                lock.withLock { highest = max(highest, rss) }
                usleep(10_000)
            }
        }.start()
    }

    /// Stops sampling; returns the highest resident size seen, in bytes.
    func stop() -> Int {
        lock.withLock {
            running = false
            return max(highest, Self.residentBytes(of: pid))
        }
    }

    static func residentBytes(of pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kib * 1024
    }

    static func openDescriptors(of pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// The descriptor count once it is back at `expected`, or the last one seen after `limit`:
    /// the server closes a reset connection when its loop sees the reset, and a request on
    /// another connection may be answered in the same loop iteration, before that.
    static func openDescriptors(of pid: Int32, settlingAt expected: Int, within limit: Duration = .seconds(5))
        async -> Int
    {
        let deadline = ContinuousClock.now + limit
        var count = openDescriptors(of: pid)
        while count != expected, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            count = openDescriptors(of: pid)
        }
        return count
    }
}

/// Megabytes moved by the large-transfer tests: 1 GiB unless `LOOPWORK_STREAM_TEST_MIB` says
/// otherwise (the ThreadSanitizer run moves less: it is about races, not volume).
let streamTestMiB = ProcessInfo.processInfo.environment["LOOPWORK_STREAM_TEST_MIB"].flatMap { Int($0) } ?? 1024
