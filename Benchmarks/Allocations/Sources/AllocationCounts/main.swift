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
                output(usage)
                exit(0)
            default: fail("unknown argument \(argument)\n\(usage)")
            }
        }
        return options
    }
}

/// Where the report goes: the process's standard output as it was at the start. Standard output
/// itself is moved to /dev/null by ``silenceStandardOutput()``, because the access-log row's
/// server writes its lines there.
let reportDescriptor = dup(STDOUT_FILENO)

/// Writes one line of the report.
func output(_ text: String) {
    let line = Array((text + "\n").utf8)
    line.withUnsafeBytes { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(reportDescriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            guard written > 0 else { return }
            offset += written
        }
    }
}

func silenceStandardOutput() {
    let devNull = open("/dev/null", O_WRONLY)
    guard devNull >= 0, reportDescriptor >= 0, dup2(devNull, STDOUT_FILENO) >= 0 else {
        fail("cannot move standard output to /dev/null")
    }
    close(devNull)
}

func fail(_ message: String) -> Never {
    let line = Array("error: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

/// One kind of request, sent again and again on one keep-alive connection to the server at `port`.
struct Scenario {
    let port: Int
    let request: PreparedRequest
    let status: Int
    /// Wait until its after-response task has run before the next request.
    let waitsForTask: Bool

    init(_ method: String, _ path: String, port: Int, body: String? = nil, status: Int, waitsForTask: Bool = false) {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        // As the benchmark harness's wrk script sends it (Benchmarks/peers/lua/post-tasks.lua).
        if let body {
            text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            text += "\r\n"
        }
        self.port = port
        self.request = PreparedRequest(text)
        self.status = status
        self.waitsForTask = waitsForTask
    }

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

func run(_ scenario: Scenario, options: Options, tasksRun: inout Int) -> Measurement {
    let client = RawClient(port: scenario.port)
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
    let length = Scenario("GET", "/length", port: canned.port, status: 200)
    let chunked = Scenario("GET", "/chunked", port: canned.port, status: 200)
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
    silenceStandardOutput()
    checkInterposerIsActive()

    let app = makeApp()
    let running = try await app.start()
    let port = running.port
    let loggedApp = try await makeLoggedApp().start()
    let scenarios: [String: Scenario] = [
        "plaintext": Scenario("GET", "/plaintext", port: port, status: 200),
        "json": Scenario("GET", "/json", port: port, status: 200),
        "tasks": Scenario("POST", "/tasks", port: port, body: #"{"job":"increment"}"#, status: 202, waitsForTask: true),
        "stream-1": Scenario("GET", "/stream/1", port: port, status: 200),
        "stream-long": Scenario("GET", "/stream/\(streamChunks)", port: port, status: 200),
        "logged": Scenario("GET", "/plaintext", port: loggedApp.port, status: 200),
    ]
    var tasksRun = completedTasks.load(ordering: .acquiring)

    if let name = options.sites {
        guard let scenario = scenarios[name] else {
            fail("--sites takes one of \(scenarios.keys.sorted().joined(separator: ", "))")
        }
        reportSites(of: scenario, named: name, options: options, tasksRun: &tasksRun)
        await running.shutdown()
        await loggedApp.shutdown()
        return 0
    }

    let clientAlone = measureClientAlone(options: options)
    func measured(_ name: String, alone: Measurement) -> Measurement {
        run(scenarios[name]!, options: options, tasksRun: &tasksRun) - alone
    }
    let plaintext = measured("plaintext", alone: clientAlone.length)
    let json = measured("json", alone: clientAlone.length)
    let tasks = measured("tasks", alone: clientAlone.length)
    let logged = measured("logged", alone: clientAlone.length)
    let stream1 = measured("stream-1", alone: clientAlone.chunked)
    let streamLong = measured("stream-long", alone: clientAlone.chunked)
    await running.shutdown()
    await loggedApp.shutdown()

    let rows = [
        Row(name: "plaintext", title: "GET /plaintext", measurement: plaintext),
        Row(name: "json", title: "GET /json", measurement: json),
        Row(name: "tasks", title: "POST /tasks + its task", measurement: tasks),
        Row(name: "logged", title: "GET /plaintext, access log", measurement: logged),
        Row(name: "stream-response", title: "streamed response, 1 chunk", measurement: stream1),
        Row(
            name: "stream-chunk", title: "each further chunk (\(streamChunkSize) B)",
            measurement: (streamLong - stream1) / Double(streamChunks - 1)),
    ]

    output(
        """
        Allocations per request (malloc, calloc, realloc and the aligned forms, every thread),
        median of clean batches of \(options.batchSize) requests after \(options.warmup) warm-up requests.
        Client alone against a canned server: \(format(clientAlone.length.mallocs)) per request \
        (Content-Length), \(format(clientAlone.chunked.mallocs)) (chunked); subtracted below.

        """)
    return report(rows, options: options)
}

exit(try await runBenchmark())
