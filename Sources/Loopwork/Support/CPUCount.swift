#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum CPUCount {
    /// CPUs in this process's affinity mask; falls back to the online count.
    static var available: Int {
        #if os(Linux)
        var set = cpu_set_t()
        if sched_getaffinity(0, MemoryLayout<cpu_set_t>.size, &set) == 0 {
            let count = withUnsafeBytes(of: &set) { bytes in
                bytes.reduce(0) { $0 + $1.nonzeroBitCount }
            }
            if count > 0 { return count }
        }
        #endif
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }
}
