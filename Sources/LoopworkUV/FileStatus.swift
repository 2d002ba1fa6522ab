import CLibUV

/// What `stat` says about a file: enough to serve it (size, kind) and to validate caches
/// (modification time, inode and device, which tell a replaced file from an edited one).
public struct FileStatus: Sendable, Equatable {
    /// The size in bytes.
    public let size: Int64
    /// The last modification, as time since the Unix epoch.
    public let modificationTime: Duration
    /// Whether it is a regular file (not a directory, device, FIFO or socket).
    public let isRegularFile: Bool
    /// Whether it is a directory.
    public let isDirectory: Bool
    /// The inode number on its device.
    public let inode: UInt64
    /// The device the file is on.
    public let device: UInt64

    /// A status with the given values, for tests and callers that compute one.
    public init(
        size: Int64, modificationTime: Duration, isRegularFile: Bool, isDirectory: Bool,
        inode: UInt64 = 0, device: UInt64 = 0
    ) {
        self.size = size
        self.modificationTime = modificationTime
        self.isRegularFile = isRegularFile
        self.isDirectory = isDirectory
        self.inode = inode
        self.device = device
    }

    // The `st_mode` file-type bits, fixed by POSIX.
    private static let typeMask: UInt64 = 0o170000
    private static let regularType: UInt64 = 0o100000
    private static let directoryType: UInt64 = 0o040000

    init(_ stat: uv_stat_t) {
        self.init(
            size: Int64(truncatingIfNeeded: stat.st_size),
            modificationTime: .seconds(Int64(stat.st_mtim.tv_sec)) + .nanoseconds(Int64(stat.st_mtim.tv_nsec)),
            isRegularFile: stat.st_mode & Self.typeMask == Self.regularType,
            isDirectory: stat.st_mode & Self.typeMask == Self.directoryType,
            inode: stat.st_ino,
            device: stat.st_dev)
    }
}
