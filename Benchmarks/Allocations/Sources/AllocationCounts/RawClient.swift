#if canImport(Glibc)
    import Glibc
#endif

/// Request bytes made once, before counting starts, so that sending them costs no allocation.
final class PreparedRequest: @unchecked Sendable {
    let bytes: UnsafeMutableRawBufferPointer

    init(_ text: String) {
        let utf8 = Array(text.utf8)
        bytes = .allocate(byteCount: utf8.count, alignment: 1)
        utf8.withUnsafeBytes { bytes.copyMemory(from: $0) }
    }

    deinit { bytes.deallocate() }
}

/// A blocking HTTP/1.1 client on one keep-alive connection that allocates nothing per request.
///
/// Every allocation in the process is counted, the client's included, so the client must add
/// none: requests are ``PreparedRequest``s, each response lands in one buffer reserved up front
/// and is parsed in place (status, `Content-Length` or chunked framing), and failures stop the
/// process with a static message instead of building an error. `main` checks the claim against
/// ``CannedServer`` before measuring the real server.
final class RawClient {
    private let fd: Int32
    private let buffer: UnsafeMutablePointer<UInt8>
    private let capacity: Int

    init(port: Int, capacity: Int = 1 << 20) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { fatalError("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { fatalError("connect to the server failed") }
        // Without it a request could wait for the server's delayed ACK (Nagle), adding time but
        // also letting two writes of the server coalesce differently from run to run.
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        // A server that stops answering fails the run instead of hanging CI.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.fd = fd
        self.capacity = capacity
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    /// Sends `request` and reads its whole response; returns the status code.
    func roundTrip(_ request: PreparedRequest) -> Int {
        sendAll(request)
        var filled = 0
        while true {
            let count = recv(fd, buffer + filled, capacity - filled, 0)
            guard count > 0 else { fatalError("the server closed the connection or timed out") }
            filled += count
            if let end = responseEnd(filled) {
                guard end == filled else { fatalError("bytes after the response (none was asked for)") }
                return status()
            }
            guard filled < capacity else { fatalError("a response larger than the client's buffer") }
        }
    }

    private func sendAll(_ request: PreparedRequest) {
        var offset = 0
        while offset < request.bytes.count {
            let sent = send(fd, request.bytes.baseAddress! + offset, request.bytes.count - offset, Int32(MSG_NOSIGNAL))
            guard sent > 0 else { fatalError("send failed") }
            offset += sent
        }
    }

    private func status() -> Int {
        // "HTTP/1.1 200 ..."
        var value = 0
        for index in 9..<12 { value = value * 10 + Int(buffer[index] &- UInt8(ascii: "0")) }
        return value
    }

    /// The length of the response in `buffer[0..<filled]` once it is complete, else `nil`.
    private func responseEnd(_ filled: Int) -> Int? {
        guard let headEnd = find(crlfcrlf, from: 0, to: filled) else { return nil }
        let bodyStart = headEnd + 4
        var contentLength: Int?
        var chunked = false
        // Header lines: from after the status line to the blank line.
        var line = (find(crlf, from: 0, to: headEnd) ?? headEnd) + 2
        while line < headEnd {
            let lineEnd = find(crlf, from: line, to: headEnd + 2) ?? headEnd
            if hasPrefix(contentLengthName, at: line, end: lineEnd) {
                contentLength = decimal(from: line + contentLengthName.count, to: lineEnd)
            } else if hasPrefix(transferEncodingName, at: line, end: lineEnd) {
                chunked = find(chunkedValue, from: line, to: lineEnd) != nil
            }
            line = lineEnd + 2
        }
        if chunked { return chunkedEnd(from: bodyStart, filled: filled) }
        let end = bodyStart + (contentLength ?? 0)
        return filled >= end ? end : nil
    }

    /// Walks chunk sizes from `start`; the end of the last chunk and its empty trailer section.
    private func chunkedEnd(from start: Int, filled: Int) -> Int? {
        var position = start
        while true {
            guard let sizeEnd = find(crlf, from: position, to: filled) else { return nil }
            var size = 0
            var index = position
            while index < sizeEnd, let digit = hexDigit(buffer[index]) {
                size = size * 16 + digit
                index += 1
            }
            if size == 0 {
                // No trailers are sent by these routes: the last chunk is "0\r\n\r\n".
                return filled >= sizeEnd + 4 ? sizeEnd + 4 : nil
            }
            position = sizeEnd + 2 + size + 2
            guard position <= filled else { return nil }
        }
    }

    private func find(_ needle: StaticString, from start: Int, to end: Int) -> Int? {
        let count = needle.utf8CodeUnitCount
        guard end - start >= count else { return nil }
        var index = start
        while index <= end - count {
            if memcmp(buffer + index, needle.utf8Start, count) == 0 { return index }
            index += 1
        }
        return nil
    }

    /// Case-insensitive, as field names are.
    private func hasPrefix(_ name: StaticString, at start: Int, end: Int) -> Bool {
        let count = name.utf8CodeUnitCount
        guard end - start >= count else { return false }
        return strncasecmp(
            UnsafeRawPointer(buffer + start).assumingMemoryBound(to: CChar.self),
            UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self), count) == 0
    }

    private func decimal(from start: Int, to end: Int) -> Int {
        var value = 0
        for index in start..<end where buffer[index] >= UInt8(ascii: "0") && buffer[index] <= UInt8(ascii: "9") {
            value = value * 10 + Int(buffer[index] - UInt8(ascii: "0"))
        }
        return value
    }

    private func hexDigit(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }

    private let crlf: StaticString = "\r\n"
    private let crlfcrlf: StaticString = "\r\n\r\n"
    private let contentLengthName: StaticString = "content-length:"
    private let transferEncodingName: StaticString = "transfer-encoding:"
    private let chunkedValue: StaticString = "chunked"
}

extension StaticString {
    fileprivate var count: Int { utf8CodeUnitCount }
}
