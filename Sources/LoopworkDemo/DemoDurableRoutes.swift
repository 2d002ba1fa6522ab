import HTTPTypes
import Logging
import Loopwork
import LoopworkDurable

/// The demo's durable job. "Sending" waits for the simulated mail server (`--welcome-delay-ms`)
/// and logs the address: the log lines carry the job id, which is how the integration tests count
/// that every job ran once, on whichever instance.
struct SendWelcomeEmail: DurableJob {
    static let name = "send-welcome-email"

    struct Parameters: Codable, Sendable {
        let email: String
    }

    let mailServerLatency: Duration

    func run(_ parameters: Parameters, context: JobContext) async throws {
        context.logger.info("sending welcome email", metadata: ["email": "\(parameters.email)"])
        if mailServerLatency > .zero { try await Task.sleep(for: mailServerLatency) }
        context.logger.info("welcome email sent", metadata: ["email": "\(parameters.email)"])
    }
}

/// `POST /signup`'s body.
struct Signup: Decodable, Sendable {
    let email: String
}

/// `GET /jobs/{id}`'s answer: the job as the database holds it now.
struct JobStatus: ResponseEncodable {
    let id: String
    let name: String
    let state: String
    let attempts: Int
    let lastError: String?

    init(_ record: DurableJobRecord) {
        id = record.id
        name = record.name
        state = record.state.rawValue
        attempts = record.attempts
        lastError = record.lastError
    }
}

extension DemoRoutes {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!

    /// `POST /signup` and `GET /jobs/{id}`, for an app that called `addDurableTasks`.
    static func installDurableRoutes(on app: App) {
        app.post("/signup") {
            (
                signup: JSONBody<Signup>, welcome: DurableTasks<SendWelcomeEmail>,
                fields: HTTPFields, logger: Logger
            ) in
            let email = signup.value.email
            guard isPlausibleEmail(email) else {
                throw HTTPError(.unprocessableContent, detail: "email must look like name@example.com")
            }
            let job: DurableJobHandle
            do {
                job = try await welcome.afterResponse.schedule(
                    .init(email: email), idempotencyKey: fields[idempotencyKey])
            } catch {
                // Not recorded, so not promised: the client may try again.
                logger.error("signup: the welcome email could not be queued", metadata: ["error": "\(error)"])
                throw HTTPError(.serviceUnavailable, detail: "the job queue is unavailable; try again")
            }
            return StatusResponse(.accepted, ["job": job.id])
        }

        installJobLookup(on: app)
    }

    /// What a `--durable-workers-only` instance serves: its health and job lookups.
    static func installWorkerRoutes(on app: App) {
        app.add(middleware: RequestIDMiddleware())
        app.get("/healthz") { ["status": "ok"] }
        installJobLookup(on: app)
    }

    /// `GET /jobs/{id}`: a job's state, from any instance.
    static func installJobLookup(on app: App) {
        app.get("/jobs/{id}") { (path: PathParameters, queue: DurableQueue) -> JobStatus in
            let id = try path.require("id", as: String.self)
            let record: DurableJobRecord?
            do {
                record = try await queue.job(id: id)
            } catch {
                throw HTTPError(.serviceUnavailable, detail: "the job queue is unavailable; try again")
            }
            guard let record else { throw HTTPError(.notFound, detail: "no job has the id '\(id)'") }
            return JobStatus(record)
        }
    }

    /// One `@` with something on each side and a dot in the domain: enough to catch a field
    /// mixed up with another, which is all a demo should judge about an address.
    static func isPlausibleEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= 254, parts.count == 2, let local = parts.first, let domain = parts.last else {
            return false
        }
        return !local.isEmpty && domain.contains(".") && !domain.hasPrefix(".") && !domain.hasSuffix(".")
            && !email.contains(where: \.isWhitespace)
    }
}
