import HTTPTypes
import Logging
import Loopwork

extension DemoRoutes {
    static func installTaskRoutes(on app: App) {
        app.addTasks()
        app.post("/tasks") { (tasks: Tasks) in
            tasks.afterResponse.schedule(countTask)
            return (HTTPResponse.Status.accepted, ["status": "ok"])
        }

        app.get("/stats") { stats.snapshot() }

        app.post("/tasks/timings") { (tasks: Tasks, logger: Logger) in
            let clock = DemoClock()
            tasks.afterResponse.schedule(logTiming, "after-response", clock, logger)
            tasks.afterRoute.schedule(logTiming, "after-route", clock, logger)
            tasks.schedule(logTiming, "immediate", clock, logger)
            logger.info("handler returning", metadata: ["elapsed-us": "\(clock.elapsedMicroseconds)"])
            return (HTTPResponse.Status.accepted, ["status": "scheduled", "see": "the server log"])
        }
    }
}
