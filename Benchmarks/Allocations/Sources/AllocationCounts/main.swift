import Loopwork
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Allocations per request of a Loopwork server, counted in this process (Benchmarks/README.md
/// tells how). Exits 1 when a count is above its threshold in `thresholds.json`.
struct Options {
    var thresholdsPath = "thresholds.json"
    var batches = 40
    var batchSize = 50
    var warmup = 500
    var writeThresholds = false
    var verbose = false
    var sites: String?
    var sitesRequests = 1000

    static let usage = """
        usage: AllocationCounts [--thresholds PATH] [--batches N] [--batch-size N] [--warmup N]
                                [--write-thresholds] [--verbose] [--sites SCENARIO [--sites-requests N]]
          --write-thresholds   write today's counts + margin to the thresholds file (goals kept)
          --verbose            also print every batch's count (- for a batch left out)
          --sites SCENARIO     where the allocations of one scenario come from, instead of the check
        """

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var rest = arguments.dropFirst()
        func value(_ name: String) -> String {
            guard let value = rest.popFirst() else { fail("\(name) needs a value\n\(usage)") }
            return value
        }
        func count(_ name: String) -> Int {
            guard let number = Int(value(name)), number > 0 else { fail("\(name) needs a positive number") }
            return number
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--thresholds": options.thresholdsPath = value(argument)
            case "--batches": options.batches = max(2, count(argument))
            case "--batch-size": options.batchSize = count(argument)
            case "--warmup": options.warmup = count(argument)
            case "--write-thresholds": options.writeThresholds = true
            case "--verbose": options.verbose = true
            case "--sites": options.sites = value(argument)
            case "--sites-requests": options.sitesRequests = count(argument)
            case "--help", "-h":
                print(usage)
                exit(0)
            default: fail("unknown argument \(argument)\n\(usage)")
            }
        }
        return options
    }
}

func fail(_ message: String) -> Never {
    let line = Array("error: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

/// One kind of request, sent again and again on one keep-alive connection.
struct Scenario {
    let request: PreparedRequest
    let status: Int
    /// Wait until its after-response task has run before the next request.
    let waitsForTask: Bool

    /// Sends the request, checks the status, and for `POST /tasks` waits for the task.
    func perform(on client: RawClient, tasksRun: inout Int) {
        let status = client.roundTrip(request)
        guard status == self.status else { fatalError("expected status \(self.status), got \(status)") }
        guard waitsForTask else { return }
        tasksRun += 1
        // Spinning, not sleeping: a sleep would hand the server's loop idle time, and the task
        // is done within microseconds.
        while completedTasks.load(ordering: .acquiring) < tasksRun { sched_yield() }
    }
}

/// The rows of the table, in its order; `name` is the key in `thresholds.json`.
struct Row {
    let name: String
    let title: String
    var measurement: Measurement
}

func request(_ method: String, _ path: String, port: Int, body: String? = nil) -> PreparedRequest {
    var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
    // As the benchmark harness's wrk script sends it (Benchmarks/peers/lua/post-tasks.lua).
    if let body {
        text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    } else {
        text += "\r\n"
    }
    return PreparedRequest(text)
}

func run(_ scenario: Scenario, port: Int, options: Options, tasksRun: inout Int) -> Measurement {
    let client = RawClient(port: port)
    for _ in 0..<options.warmup { scenario.perform(on: client, tasksRun: &tasksRun) }
    return measure(batches: options.batches, batchSize: options.batchSize) { _ in
        scenario.perform(on: client, tasksRun: &tasksRun)
    }
}

/// The client against ``CannedServer``: whatever it counts is the client's (and the canned
/// server's), to be subtracted from the real server's counts; it should be zero.
func measureClientAlone(options: Options) -> (length: Measurement, chunked: Measurement) {
    let canned = CannedServer(chunks: streamChunks, chunkSize: streamChunkSize)
    canned.start()
    var noTasks = 0
    let length = Scenario(request: request("GET", "/length", port: canned.port), status: 200, waitsForTask: false)
    let chunked = Scenario(request: request("GET", "/chunked", port: canned.port), status: 200, waitsForTask: false)
    let result: (Measurement, Measurement)
    do {
        let client = RawClient(port: canned.port)
        for _ in 0..<options.warmup {
            length.perform(on: client, tasksRun: &noTasks)
            chunked.perform(on: client, tasksRun: &noTasks)
        }
        result = (
            measure(batches: options.batches, batchSize: options.batchSize) { _ in
                length.perform(on: client, tasksRun: &noTasks)
            },
            measure(batches: options.batches, batchSize: options.batchSize) { _ in
                chunked.perform(on: client, tasksRun: &noTasks)
            }
        )
    }
    canned.join()
    return result
}

/// The whole run; its locals keep the counters and the client out of the main actor's globals.
func runBenchmark() async throws -> Int32 {
    let options = Options.parse(CommandLine.arguments)
    checkInterposerIsActive()

    let app = makeApp()
    let running = try await app.start()
    let port = running.port
    let scenarios: [String: Scenario] = [
        "plaintext": Scenario(request: request("GET", "/plaintext", port: port), status: 200, waitsForTask: false),
        "json": Scenario(request: request("GET", "/json", port: port), status: 200, waitsForTask: false),
        "tasks": Scenario(
            request: request("POST", "/tasks", port: port, body: #"{"job":"increment"}"#),
            status: 202, waitsForTask: true),
        "stream-1": Scenario(request: request("GET", "/stream/1", port: port), status: 200, waitsForTask: false),
        "stream-long": Scenario(
            request: request("GET", "/stream/\(streamChunks)", port: port), status: 200, waitsForTask: false),
    ]
    var tasksRun = completedTasks.load(ordering: .acquiring)

    if let name = options.sites {
        guard let scenario = scenarios[name] else {
            fail("--sites takes one of \(scenarios.keys.sorted().joined(separator: ", "))")
        }
        reportSites(of: scenario, named: name, port: port, options: options, tasksRun: &tasksRun)
        await running.shutdown()
        return 0
    }

    let clientAlone = measureClientAlone(options: options)
    func measured(_ name: String, alone: Measurement) -> Measurement {
        run(scenarios[name]!, port: port, options: options, tasksRun: &tasksRun) - alone
    }
    let plaintext = measured("plaintext", alone: clientAlone.length)
    let json = measured("json", alone: clientAlone.length)
    let tasks = measured("tasks", alone: clientAlone.length)
    let stream1 = measured("stream-1", alone: clientAlone.chunked)
    let streamLong = measured("stream-long", alone: clientAlone.chunked)
    await running.shutdown()

    let rows = [
        Row(name: "plaintext", title: "GET /plaintext", measurement: plaintext),
        Row(name: "json", title: "GET /json", measurement: json),
        Row(name: "tasks", title: "POST /tasks + its task", measurement: tasks),
        Row(name: "stream-response", title: "streamed response, 1 chunk", measurement: stream1),
        Row(
            name: "stream-chunk", title: "each further chunk (\(streamChunkSize) B)",
            measurement: (streamLong - stream1) / Double(streamChunks - 1)),
    ]

    print(
        """
        Allocations per request (malloc, calloc, realloc and the aligned forms, every thread),
        median of clean batches of \(options.batchSize) requests after \(options.warmup) warm-up requests.
        Client alone against a canned server: \(format(clientAlone.length.mallocs)) per request \
        (Content-Length), \(format(clientAlone.chunked.mallocs)) (chunked); subtracted below.

        """)
    return report(rows, options: options)
}

exit(try await runBenchmark())
