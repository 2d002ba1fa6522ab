import CoreMetrics

/// The task counters and timers, one set per timing, made once from the app's metrics factory.
struct TaskMetrics: Sendable {
    enum Event: String, CaseIterable {
        case scheduled, started, succeeded, failed, cancelled, discarded
    }

    private let counters: [TaskTiming: [Event: Counter]]
    private let queueWait: [TaskTiming: Timer]
    private let runDuration: [TaskTiming: Timer]

    init(factory: any MetricsFactory) {
        var counters: [TaskTiming: [Event: Counter]] = [:]
        var queueWait: [TaskTiming: Timer] = [:]
        var runDuration: [TaskTiming: Timer] = [:]
        for timing in TaskTiming.allCases {
            let dimensions = [("timing", timing.rawValue)]
            var perEvent: [Event: Counter] = [:]
            for event in Event.allCases {
                perEvent[event] = Counter(label: "loopwork_tasks_\(event.rawValue)_total", dimensions: dimensions, factory: factory)
            }
            counters[timing] = perEvent
            queueWait[timing] = Timer(label: "loopwork_task_queue_wait_seconds", dimensions: dimensions, factory: factory)
            runDuration[timing] = Timer(label: "loopwork_task_run_duration_seconds", dimensions: dimensions, factory: factory)
        }
        self.counters = counters
        self.queueWait = queueWait
        self.runDuration = runDuration
    }

    func count(_ event: Event, _ timing: TaskTiming) {
        counters[timing]?[event]?.increment()
    }

    /// From the task's moment (or its scheduling, for immediate tasks) to its start.
    func recordQueueWait(_ duration: Duration, _ timing: TaskTiming) {
        queueWait[timing]?.recordNanoseconds(duration.nanoseconds)
    }

    /// From the task's start to its end, its error handler included.
    func recordRun(_ duration: Duration, _ timing: TaskTiming) {
        runDuration[timing]?.recordNanoseconds(duration.nanoseconds)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled &+ attoseconds / 1_000_000_000
    }
}
