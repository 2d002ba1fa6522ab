import Foundation
import Testing

/// Two real `loopwork-demo` processes sharing one queue in the PostgreSQL that
/// `scripts/test.sh` started, each test in a schema of its own.
@Suite(
    "Demo durable tasks",
    .enabled(if: DurableDemo.url != nil, "needs LOOPWORK_TEST_POSTGRES_URL (scripts/test.sh starts a server)"))
struct DemoDurableTests {
    @Test func twoInstancesUnderLoadRunEverySignupsJobExactlyOnce() async throws {
        let schema = DurableDemo.freshSchema()
        let first = try await DemoServer(extraArguments: DurableDemo.arguments(schema: schema))
        let second = try await DemoServer(extraArguments: DurableDemo.arguments(schema: schema))
        let perInstance = 150
        async let fromFirst = DurableDemo.signups(perInstance, port: first.port)
        async let fromSecond = DurableDemo.signups(perInstance, port: second.port)
        let ids = try await fromFirst + fromSecond
        #expect(ids.count == 2 * perInstance, "every sign-up is answered 202 with a job id")
        #expect(Set(ids).count == ids.count)

        let deadline = ContinuousClock.now + .seconds(60)
        var runs: [String: Int] = [:]
        repeat {
            runs = DurableDemo.sentEmails(in: first.output.text + second.output.text)
            if ids.allSatisfy({ runs[$0] != nil }) { break }
            try await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < deadline

        let missing = ids.filter { runs[$0] == nil }
        let duplicates = runs.filter { $0.value > 1 }
        let onFirst = DurableDemo.sentEmails(in: first.output.text).count
        print(
            "durable demo: \(ids.count) jobs, \(onFirst) run by the first instance, \(ids.count - onFirst) by the second, \(duplicates.count) duplicates"
        )
        #expect(missing.isEmpty, "jobs never run: \(missing.prefix(5))")
        #expect(duplicates.isEmpty, "jobs run more than once: \(duplicates.prefix(5))")
        let status = try await DurableDemo.status(of: ids[0], port: second.port)
        #expect(status["state"] as? String == "succeeded")
        #expect(status["attempts"] as? Int == 1)
        #expect(await first.stop() == 0)
        #expect(await second.stop() == 0)
    }

    @Test func aJobOfAKilledInstanceIsCompletedByTheOtherAfterItsLease() async throws {
        let schema = DurableDemo.freshSchema()
        // The first instance's mail server never answers in time: its job is mid-run when killed.
        let doomed = try await DemoServer(
            extraArguments: DurableDemo.arguments(schema: schema) + ["--welcome-delay-ms", "600000"])
        let id = try #require(try await DurableDemo.signups(1, port: doomed.port).first)
        let started = await doomed.output.firstLine(containing: "sending welcome email")
        #expect(started?.contains("job-id=\(id)") == true)

        let survivor = try await DemoServer(
            extraArguments: DurableDemo.arguments(schema: schema) + ["--durable-workers-only"])
        #expect(try await DurableDemo.status(of: id, port: survivor.port)["state"] as? String == "running")
        #expect(await doomed.kill() == SIGKILL)

        let sent = await survivor.output.firstLine(containing: "welcome email sent")
        #expect(sent?.contains("job-id=\(id)") == true, "the survivor runs the job once the lease expires")
        let status = try await DurableDemo.status(of: id, port: survivor.port)
        #expect(status["state"] as? String == "succeeded")
        #expect(status["attempts"] as? Int == 2, "the killed attempt counts")
        #expect(await survivor.stop() == 0)
    }

    @Test func signupAndLookupAnswerBadInputWithClearErrors() async throws {
        let server = try await DemoServer(extraArguments: DurableDemo.arguments(schema: DurableDemo.freshSchema()))
        let url = "http://127.0.0.1:\(server.port)"
        let json = ["-H", "Content-Type: application/json", "-o", "/dev/null", "-w", "%{http_code}"]
        #expect(try await Curl.run(json + ["-d", #"{"email":"nobody"}"#, "\(url)/signup"]).output == "422")
        #expect(try await Curl.run(json + ["-d", #"{"mail":"a@b.io"}"#, "\(url)/signup"]).output == "422")
        #expect(try await Curl.run(json + ["-d", #"{"email":"#, "\(url)/signup"]).output == "422")
        #expect(
            try await Curl.run(["-o", "/dev/null", "-w", "%{http_code}", "-d", #"{"email":"a@b.io"}"#, "\(url)/signup"])
                .output == "415")
        #expect(try await Curl.run(["-o", "/dev/null", "-w", "%{http_code}", "\(url)/jobs/not-a-job"]).output == "404")
        #expect(
            try await Curl.run(["-o", "/dev/null", "-w", "%{http_code}", "\(url)/jobs/\(UUID().uuidString)"]).output
                == "404")
        #expect(await server.stop() == 0)
    }
}

enum DurableDemo {
    static let url = ProcessInfo.processInfo.environment["LOOPWORK_TEST_POSTGRES_URL"]

    static func freshSchema() -> String {
        "demo_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    }

    static func arguments(schema: String) -> [String] {
        ["--postgres", url ?? "", "--durable-schema", schema, "--durable-lease-seconds", "3"]
    }

    /// Posts `count` sign-ups, 16 at a time, and returns the job ids of the answers.
    static func signups(_ count: Int, port: Int) async throws -> [String] {
        let target = "http://127.0.0.1:\(port)/signup"
        let result = try await Curl.run(
            [
                "--parallel", "--parallel-max", "16", "--no-progress-meter",
                "-H", "Content-Type: application/json", "-d", #"{"email":"new@example.com"}"#,
            ]
                + Array(repeating: target, count: count))
        // Parallel transfers write their bodies as they arrive, with no separator between them.
        return result.output.matches(of: /"job":"([0-9a-f-]+)"/).map { String($0.output.1) }
    }

    /// How often each job id's "welcome email sent" line appears.
    static func sentEmails(in log: String) -> [String: Int] {
        var runs: [String: Int] = [:]
        for line in log.split(separator: "\n") where line.hasSuffix("welcome email sent") {
            guard let range = line.range(of: #"job-id=[0-9a-f-]+"#, options: .regularExpression) else { continue }
            runs[String(line[range].dropFirst("job-id=".count)), default: 0] += 1
        }
        return runs
    }

    static func status(of id: String, port: Int) async throws -> [String: Any] {
        let result = try await Curl.run(["http://127.0.0.1:\(port)/jobs/\(id)"])
        let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8))
        return object as? [String: Any] ?? [:]
    }
}
