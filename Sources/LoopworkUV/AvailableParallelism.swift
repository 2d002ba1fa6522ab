import CLibUV

/// How many threads can usefully run at once: libuv's count of CPUs in this process's affinity
/// mask, so `taskset` and container CPU sets are respected.
public enum AvailableParallelism {
    /// At least 1.
    public static var count: Int { max(1, Int(uv_available_parallelism())) }
}
