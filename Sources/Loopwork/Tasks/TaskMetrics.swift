import CoreMetrics

/// The task counters and timers, one set per timing, made once from the app's metrics factory.
///
/// Kept in flat arrays indexed by timing and event: a task counts four times, and a lookup in
/// nested dictionaries would hash twice for each.
struct TaskMetrics: Sendable {
    enum Event: Int, CaseIterable {
        case scheduled, started, succeeded, failed, cancelled, discarded

        var label: String { "loopwork_tasks_\(self)_total" }
    }

    private static let eventsPerTiming = Event.allCases.count
    private let counters: [Counter]
    private let queueWait: [Timer]
    private let runDuration: [Timer]

    init(factory: any MetricsFactory) {
        var counters: [Counter] = []
        var queueWait: [Timer] = []
        var runDuration: [Timer] = []
        for timing in TaskTiming.allCases {
            let dimensions = [("timing", timing.rawValue)]
            for event in Event.allCases {
                counters.append(Counter(label: event.label, dimensions: dimensions, factory: factory))
            }
            queueWait.append(Timer(label: "loopwork_task_queue_wait_seconds", dimensions: dimensions, factory: factory))
            runDuration.append(
                Timer(label: "loopwork_task_run_duration_seconds", dimensions: dimensions, factory: factory))
        }
        self.counters = counters
        self.queueWait = queueWait
        self.runDuration = runDuration
    }

    func count(_ event: Event, _ timing: TaskTiming) {
        counters[timing.index * Self.eventsPerTiming + event.rawValue].increment()
    }

    /// From the task's moment (or its scheduling, for immediate tasks) to its start.
    func recordQueueWait(_ duration: Duration, _ timing: TaskTiming) {
        queueWait[timing.index].recordNanoseconds(duration.nanoseconds)
    }

    /// From the task's start to its end, its error handler included.
    func recordRun(_ duration: Duration, _ timing: TaskTiming) {
        runDuration[timing.index].recordNanoseconds(duration.nanoseconds)
    }
}

extension TaskTiming {
    /// The position in `allCases`, which ``TaskMetrics`` indexes by.
    fileprivate var index: Int {
        switch self {
        case .immediate: 0
        case .afterRoute: 1
        case .afterResponse: 2
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled &+ attoseconds / 1_000_000_000
    }
}
