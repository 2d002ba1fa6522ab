import HTTPTypes
import Logging
import Loopwork

/// The demo's endpoints: the benchmark contract (`/plaintext`, `/json`, `/tasks`, `/stats`) and
/// a few that show the framework (echo, headers, path parameters, task timings).
enum DemoRoutes {
    static let stats = DemoStats()

    static func install(on app: App, staticDir: String = DemoCommand.bundledStaticDir) {
        app.add(middleware: RequestLoggingMiddleware(level: .info))
        app.add(middleware: RequestIDMiddleware())
        app.add(middleware: FileMiddleware(root: staticDir, urlPrefix: "/files"))

        app.get("/plaintext") { "Hello, World!" }

        app.get("/json") { ["message": "Hello, World!"] }

        app.get("/healthz") { ["status": "ok"] }

        app.post("/echo") { (body: RawBody, fields: HTTPFields) -> Response in
            var response = Response(status: .ok, bytes: body.bytes)
            response.headerFields[.contentType] = fields[.contentType] ?? "application/octet-stream"
            response.headerFields[echoLength] = String(body.bytes.count)
            return response
        }

        app.get("/headers") { (fields: HTTPFields) -> [String: String] in
            var object: [String: String] = [:]
            for field in fields {
                let name = field.name.canonicalName
                object[name] = object[name].map { $0 + ", " + field.value } ?? field.value
            }
            return object
        }

        app.get("/users/{id}") { (path: PathParameters, query: QueryParameters) -> User in
            User(id: try path.require("id", as: Int.self), verbose: query["verbose"] == "true")
        }

        installTaskRoutes(on: app)
        installStreamingRoutes(on: app)
    }

    static let echoLength = HTTPField.Name("X-Echo-Length")!

    @Sendable static func countTask() async {
        stats.started()
        stats.completed()
    }

    @Sendable static func logTiming(_ timing: String, _ clock: DemoClock, _ logger: Logger) async {
        logger.info("task started", metadata: ["timing": "\(timing)", "elapsed-us": "\(clock.elapsedMicroseconds)"])
    }
}

struct User: ResponseEncodable {
    let id: Int
    let verbose: Bool
}

/// Time since a request started, for the timings endpoint's log lines.
struct DemoClock: Sendable {
    let start = ContinuousClock.now

    var elapsedMicroseconds: Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
    }
}
