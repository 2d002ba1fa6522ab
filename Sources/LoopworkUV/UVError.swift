import CLibUV

/// A libuv failure: the call that failed, libuv's error name and its message.
public struct UVError: Error, CustomStringConvertible, Sendable, Equatable {
    /// libuv's (negative) error code.
    public let code: Int32
    /// The error's name, such as `ECONNRESET` (`uv_err_name`).
    public let name: String
    /// The error's message (`uv_strerror`).
    public let message: String
    /// The libuv call that failed, such as `uv_tcp_bind`.
    public let operation: String

    /// Describes libuv status `code` returned by `operation`.
    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
        // The `_r` variants: the plain ones leak a malloc'd string for codes libuv does not know.
        var buffer = [CChar](repeating: 0, count: 128)
        uv_err_name_r(code, &buffer, buffer.count)
        name = String(nulTerminated: buffer)
        uv_strerror_r(code, &buffer, buffer.count)
        message = String(nulTerminated: buffer)
    }

    private init(code: Int32, name: String, message: String, operation: String) {
        self.code = code
        self.name = name
        self.message = message
        self.operation = operation
    }

    /// Work was submitted to a loop that has shut down.
    public static let loopClosed = UVError(
        code: UV_ECANCELED.rawValue, name: "ELOOPCLOSED",
        message: "the event loop has shut down", operation: "submit")

    /// Whether the operation was cancelled (`UV_ECANCELED`): withdrawn work or a write cut short by close.
    public var isCancelled: Bool { code == UV_ECANCELED.rawValue }

    /// Whether nothing exists at a path (`ENOENT`, or `ENOTDIR` when a file stands where the path
    /// needs a directory).
    public var isNotFound: Bool { code == UV_ENOENT.rawValue || code == UV_ENOTDIR.rawValue }

    /// Whether the file system refused access (`EACCES`, `EPERM`).
    public var isPermissionDenied: Bool { code == UV_EACCES.rawValue || code == UV_EPERM.rawValue }

    public var description: String { "\(operation) failed: \(name) (\(message))" }

    /// Throws when `status` is a libuv error.
    @inline(__always)
    static func check(_ status: Int32, _ operation: @autoclosure () -> String) throws(UVError) {
        if status < 0 { throw UVError(code: status, operation: operation()) }
    }
}
