import Metrics

/// The queue's swift-metrics instruments, dimensioned by job name.
struct DurableMetrics: Sendable {
    enum Event: String, Sendable {
        case enqueued, started, succeeded, failed, retried, dead
    }

    let factory: any MetricsFactory

    func count(_ event: Event, job name: String) {
        Counter(label: "loopwork_durable_jobs_\(event.rawValue)_total", dimensions: [("job", name)], factory: factory)
            .increment()
    }

    /// How long a job waited between becoming runnable and a worker claiming it.
    func recordQueueLatency(seconds: Double, job name: String) {
        Metrics.Timer(
            label: "loopwork_durable_job_queue_latency_seconds", dimensions: [("job", name)], factory: factory
        )
        .recordNanoseconds(Int64(seconds * 1e9))
    }
}
