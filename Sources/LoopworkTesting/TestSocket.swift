import Foundation
import LoopworkUV

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking TCP client socket for tests: raw bytes in and out, for cases no HTTP client
/// would send (malformed requests, pipelining, half-close). Its blocking calls run on a thread
/// of their own, never on Swift's cooperative pool.
public final class TestSocket: Sendable {
    private let state: Locked<Int32>

    /// The socket while it is open, -1 after ``reset()`` closed it.
    private var descriptor: Int32 { state.withLock { $0 } }

    /// Connects to `host:port` (IPv4).
    ///
    /// - Throws: ``TestSocketError`` naming the failing call.
    public init(host: String = "127.0.0.1", port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSocketError(call: "socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestSocketError(call: "connect", code: code)
        }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        state = Locked(fd)
    }

    deinit {
        let fd = descriptor
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Sends every byte.
    public func send(_ bytes: [UInt8]) async throws {
        let fd = descriptor
        try await Self.blocking {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                guard sent > 0 else { throw TestSocketError(call: "send", code: errno) }
                offset += sent
            }
        }
    }

    /// Sends a string's UTF-8 bytes.
    public func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    /// Reads what is available (blocking until something is); an empty result means EOF.
    public func receive(maxBytes: Int = 65_536) async throws -> [UInt8] {
        let fd = descriptor
        return try await Self.blocking {
            var buffer = [UInt8](repeating: 0, count: maxBytes)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, maxBytes, 0) }
            guard count >= 0 else { throw TestSocketError(call: "recv", code: errno) }
            return Array(buffer[..<count])
        }
    }

    /// Reads until the peer closes the connection (or 30 s pass without data).
    public func receiveUntilClosed() async throws -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = try await receive()
            if chunk.isEmpty { return all }
            all.append(contentsOf: chunk)
        }
    }

    /// Closes the sending side (TCP FIN) while still reading.
    public func shutdownWrite() { shutdown(descriptor, Int32(SHUT_WR)) }

    /// Closes with a reset (RST) instead of an orderly FIN, like a client that vanished: a zero
    /// linger time makes `close` discard unsent data and reset. Later sends and receives fail.
    public func reset() {
        let fd = state.withLock { fd in
            defer { fd = -1 }
            return fd
        }
        guard fd >= 0 else { return }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        Glibc.close(fd)
    }

    /// Runs a blocking call on a fresh thread and resumes with its result.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.start()
        }
    }
}

/// A socket call failed.
public struct TestSocketError: Error, CustomStringConvertible {
    /// The failing system call.
    public let call: String
    /// Its errno.
    public let code: Int32

    public var description: String { "\(call) failed: \(String(cString: strerror(code)))" }
}
