import HTTPTypes
import Logging
import Loopwork

extension DemoRoutes {
    static func installTaskRoutes(on app: App) {
        // Shielded: a 202 promises its task, so shutdown waits for it rather than cancel it.
        app.addTasks(config: TaskConfig(shield: true))
        app.post("/tasks") { (tasks: Tasks) in
            tasks.afterResponse.schedule(countTask)
            return StatusResponse(.accepted, ["status": "ok"])
        }

        // Weak: the route table is the app's own; a strong capture would keep the app alive.
        app.get("/stats") { [weak app] in stats.snapshot(tasks: app?.taskTotals) }

        app.post("/tasks/timings") { (tasks: Tasks, logger: Logger) in
            let clock = DemoClock()
            tasks.afterResponse.schedule(logTiming, "after-response", clock, logger)
            tasks.afterRoute.schedule(logTiming, "after-route", clock, logger)
            tasks.schedule(logTiming, "immediate", clock, logger)
            logger.info("handler returning", metadata: ["elapsed-us": "\(clock.elapsedMicroseconds)"])
            return StatusResponse(.accepted, ["status": "scheduled", "see": "the server log"])
        }
    }
}
