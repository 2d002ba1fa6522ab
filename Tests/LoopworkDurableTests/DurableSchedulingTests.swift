import Foundation
import HTTPTypes
import Loopwork
import LoopworkDurable
import LoopworkPostgres
import LoopworkTesting
import Testing

@Suite(
    "Durable tasks: scheduling from requests",
    .enabled(if: DurableTestDatabase.isAvailable, DurableTestDatabase.skipReason))
struct DurableSchedulingTests {
    @Test("an immediate job is committed before the response and runs once")
    func immediateJobRunsOnce() async throws {
        let log = JobLog()
        let schema = DurableTestDatabase.freshSchema()
        let app = try DurableTestDatabase.app(schema: schema, jobs: [Greet(log: log)])
        app.post("/greet") { (greet: DurableTasks<Greet>, queue: DurableQueue) in
            let job = try await greet.schedule(.init(who: "ada"))
            // Committed: visible to anyone asking before the response is even written.
            let state = try await queue.job(id: job.id)?.state
            return ["job": job.id, "state": state?.rawValue ?? "missing"]
        }
        let id = try await app.test(.live) { client in
            let response = try await client.execute(.post, "/greet")
            #expect(response.status == .ok)
            let body = try JSONDecoder().decode([String: String].self, from: Data(response.body))
            #expect(["queued", "running", "succeeded"].contains(body["state"] ?? ""), "\(body)")
            await log.waitForRuns(1)
            let id = try #require(body["job"])
            try await DurableTestDatabase.eventually("the job is recorded as succeeded") {
                try await app.durableQueue?.job(id: id)?.state == .succeeded
            }
            return id
        }
        #expect(await log.runs == [id: 1])
        #expect(await log.parameters == ["ada"])
        let rows = try await DurableTestDatabase.sql(
            "SELECT attempts, request_id FROM \(schema).jobs WHERE id = $1::uuid", [id])
        #expect(try rows[0].decode("attempts", as: Int.self) == 1)
        #expect(try rows[0].decodeIfPresent("request_id", as: String.self) != nil)
    }

    @Test("after-route and after-response jobs are held until their moment, then run")
    func heldUntilTheirMoment() async throws {
        let log = JobLog()
        let schema = DurableTestDatabase.freshSchema()
        let app = try DurableTestDatabase.app(schema: schema, jobs: [Greet(log: log)])
        app.post("/later") { (greet: DurableTasks<Greet>, queue: DurableQueue) in
            let route = try await greet.afterRoute.schedule(.init(who: "route"))
            let response = try await greet.afterResponse.schedule(.init(who: "response"))
            let states = [try await queue.job(id: route.id)?.state, try await queue.job(id: response.id)?.state]
            return [
                "route": route.id, "response": response.id,
                "states": states.map { $0?.rawValue ?? "missing" }.joined(separator: ","),
            ]
        }
        try await app.test(.live) { client in
            let response = try await client.execute(.post, "/later")
            let body = try JSONDecoder().decode([String: String].self, from: Data(response.body))
            #expect(body["states"] == "held,held")
            await log.waitForRuns(2)
            #expect(Set(await log.parameters) == ["route", "response"])
        }
    }

    @Test("a handler that throws deletes its held jobs, except those scheduled with always")
    func throwingHandlerDiscards() async throws {
        let log = JobLog()
        let schema = DurableTestDatabase.freshSchema()
        let app = try DurableTestDatabase.app(schema: schema, jobs: [Greet(log: log)])
        let ids = IDs()
        app.post("/fails") { (greet: DurableTasks<Greet>) -> String in
            await ids.add(try await greet.afterResponse.schedule(.init(who: "dropped")).id)
            await ids.add(try await greet.afterRoute.schedule(.init(who: "dropped too")).id)
            await ids.add(try await greet.afterResponse.schedule(.init(who: "kept"), always: true).id)
            throw HTTPError(.conflict, detail: "no")
        }
        try await app.test(.live) { client in
            #expect(try await client.execute(.post, "/fails").status == .conflict)
            await log.waitForRuns(1)
            let all = await ids.all
            try await DurableTestDatabase.eventually("the two held jobs are deleted") {
                let first = try await app.durableQueue?.job(id: all[0])
                let second = try await app.durableQueue?.job(id: all[1])
                return first == nil && second == nil
            }
        }
        #expect(await log.parameters == ["kept"])
    }

    @Test("an idempotency key returns the unfinished job instead of adding one")
    func idempotencyKey() async throws {
        let log = JobLog()
        let schema = DurableTestDatabase.freshSchema()
        // No workers: the first job stays unfinished.
        let app = try DurableTestDatabase.app(schema: schema, jobs: [Greet(log: log)]) { $0.runsWorkers = false }
        app.post("/once") { (greet: DurableTasks<Greet>) in
            let first = try await greet.schedule(.init(who: "a"), idempotencyKey: "order-7")
            let second = try await greet.schedule(.init(who: "b"), idempotencyKey: "order-7")
            let other = try await greet.schedule(.init(who: "c"), idempotencyKey: "order-8")
            return [
                "same": "\(first.id == second.id)", "created": "\(first.created),\(second.created),\(other.created)",
                "distinct": "\(other.id != first.id)",
            ]
        }
        try await app.test(.router) { client in
            let body = try JSONDecoder().decode(
                [String: String].self, from: Data(try await client.execute(.post, "/once").body))
            #expect(body == ["same": "true", "created": "true,false,true", "distinct": "true"])
        }
        let count = try await DurableTestDatabase.sql("SELECT count(*)::int AS n FROM \(schema).jobs")
        #expect(try count[0].decode("n", as: Int.self) == 2)
        #expect(await log.total == 0)
    }

    @Test("looking up an unknown or malformed id finds nothing")
    func lookups() async throws {
        let app = try DurableTestDatabase.app(schema: DurableTestDatabase.freshSchema(), jobs: [Greet(log: JobLog())])
        app.get("/jobs/{id}") { (request: Request, queue: DurableQueue) -> Response in
            guard let job = try await queue.job(id: request.pathParameters["id"] ?? "") else {
                throw HTTPError(.notFound, detail: "no such job")
            }
            return Response.text(job.state.rawValue)
        }
        try await app.test(.router) { client throws in
            #expect(try await client.execute(.get, "/jobs/00000000-0000-0000-0000-000000000000").status == .notFound)
            #expect(try await client.execute(.get, "/jobs/not-a-uuid").status == .notFound)
        }
    }

    @Test("a job scheduled outside a request is committed at once; an unregistered type is refused by name")
    func scheduledOutsideARequest() async throws {
        // No workers: the job stays queued, so the second schedule finds it unfinished.
        let app = try DurableTestDatabase.app(schema: DurableTestDatabase.freshSchema(), jobs: [Greet(log: JobLog())]) {
            $0.runsWorkers = false
        }
        try await app.test(.router) { _ in
            let queue = try #require(app.durableQueue)
            let job = try await queue.schedule(Greet.self, .init(who: "timer"), idempotencyKey: "nightly")
            let again = try await queue.schedule(Greet.self, .init(who: "timer"), idempotencyKey: "nightly")
            #expect(job.created && !again.created && again.id == job.id, "the key finds the unfinished job")
            #expect(try await queue.job(id: job.id)?.state == .queued)
            let refusal = await #expect(throws: DurableTasksError.self) {
                try await queue.schedule(Flaky.self, .init(failures: 0))
            }
            #expect(refusal?.message.contains("'flaky'") == true, "\(String(describing: refusal))")
        }
    }
}

actor IDs {
    private(set) var all: [String] = []
    func add(_ id: String) { all.append(id) }

}
