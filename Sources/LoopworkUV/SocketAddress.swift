import CLibUV

#if canImport(Glibc)
    import Glibc
#endif

/// An IPv4 or IPv6 address and port in the form libuv's bind and connect take.
struct SocketAddress {
    var storage = sockaddr_storage()
    let family: Int32

    /// Parses a numeric address (`127.0.0.1`, `::1`, `0.0.0.0`, `::`).
    init(host: String, port: Int) throws(UVError) {
        guard (0...65_535).contains(port) else { throw UVError(code: UV_EINVAL.rawValue, operation: "port \(port)") }
        if host.contains(":") {
            family = AF_INET6
            let status = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { uv_ip6_addr(host, Int32(port), $0) }
            }
            try UVError.check(status, "uv_ip6_addr(\(host))")
        } else {
            family = AF_INET
            let status = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { uv_ip4_addr(host, Int32(port), $0) }
            }
            try UVError.check(status, "uv_ip4_addr(\(host))")
        }
    }

    func withSockaddr<T, Failure: Error>(_ body: (UnsafePointer<sockaddr>) throws(Failure) -> T) throws(Failure) -> T {
        try withUnsafePointer(to: storage) { (pointer) throws(Failure) -> T in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1, body)
        }
    }

    /// `host:port` of a socket address libuv filled in, or nil for other families.
    static func describe(_ storage: sockaddr_storage) -> (host: String, port: Int)? {
        var storage = storage
        var buffer = [CChar](repeating: 0, count: 64)
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    uv_ip4_name(address, &buffer, buffer.count)
                    return (String(nulTerminated: buffer), Int(UInt16(bigEndian: address.pointee.sin_port)))
                }
            }
        case AF_INET6:
            return withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    uv_ip6_name(address, &buffer, buffer.count)
                    return (String(nulTerminated: buffer), Int(UInt16(bigEndian: address.pointee.sin6_port)))
                }
            }
        default:
            return nil
        }
    }
}
