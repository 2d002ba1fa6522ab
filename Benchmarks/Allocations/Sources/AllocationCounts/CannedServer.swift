#if canImport(Glibc)
    import Glibc
#endif

/// A loopback server on a thread of its own that answers every request head with bytes made in
/// advance and allocates nothing while it serves: the client alone against it must count zero
/// allocations, which proves that the counts of the real server are the server's own.
///
/// A request whose path starts with `/c` gets a chunked response (`chunks` chunks of
/// `chunkSize` bytes), any other a `Content-Length` one, so both of the client's framings run.
final class CannedServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let lengthResponse: PreparedRequest
    private let chunkedResponse: PreparedRequest
    private var thread = pthread_t()
    private let headEnd: StaticString = "\r\n\r\n"

    init(chunks: Int, chunkSize: Int) {
        lengthResponse = PreparedRequest(
            "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!")
        let chunk = String(chunkSize, radix: 16) + "\r\n" + String(repeating: "x", count: chunkSize) + "\r\n"
        chunkedResponse = PreparedRequest(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(repeating: chunk, count: chunks) + "0\r\n\r\n")
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard listener >= 0, bound == 0, listen(listener, 1) == 0 else {
            fatalError("the canned server could not listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Serves one connection on a new thread until the client closes it.
    func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        guard
            pthread_create(
                &thread, nil,
                { context in
                    let server = Unmanaged<CannedServer>.fromOpaque(context!).takeRetainedValue()
                    server.serve()
                    return nil
                }, context) == 0
        else { fatalError("pthread_create failed") }
    }

    func join() { pthread_join(thread, nil) }

    private func serve() {
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { fatalError("the canned server's accept failed") }
        var one: Int32 = 1
        setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let capacity = 64 * 1024
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer {
            buffer.deallocate()
            close(connection)
            close(listener)
        }
        var filled = 0
        while true {
            let count = recv(connection, buffer + filled, capacity - filled, 0)
            if count <= 0 { return }
            filled += count
            // One request at a time: the client waits for each response before it sends again.
            guard filled >= 4, memcmp(buffer + filled - 4, headEnd.utf8Start, 4) == 0 else { continue }
            let response = buffer[5] == UInt8(ascii: "c") ? chunkedResponse : lengthResponse
            var offset = 0
            while offset < response.bytes.count {
                let sent = send(
                    connection, response.bytes.baseAddress! + offset, response.bytes.count - offset, Int32(MSG_NOSIGNAL)
                )
                guard sent > 0 else { return }
                offset += sent
            }
            filled = 0
        }
    }
}
