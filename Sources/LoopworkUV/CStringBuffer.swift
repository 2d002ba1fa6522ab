extension String {
    /// The text a C call wrote into `buffer`, up to its first NUL (or the whole buffer when the
    /// call filled it), decoded as UTF-8 with invalid bytes repaired: libuv's names and messages
    /// are ASCII, but nothing a C library writes is trusted to be valid.
    init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
