import Foundation

/// The real `loopwork-demo` binary, started on an ephemeral port for one test and stopped with
/// SIGTERM at the end. Its port is read from its "listening" log line, never guessed.
final class DemoServer: Sendable {
    let port: Int
    private let process: Process
    private let exited: ExitSignal
    let output: OutputCollector

    static var binary: URL {
        // Tests run from the build folder that also holds the demo executable.
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("loopwork-demo")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return executable.deletingLastPathComponent().appendingPathComponent("loopwork-demo")
    }

    init(workers: Int = 2, extraArguments: [String] = []) async throws {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["--port", "0", "--workers", "\(workers)", "--log-level", "info"] + extraArguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        let output = OutputCollector()
        let exited = ExitSignal()
        output.collect(from: pipe.fileHandleForReading)
        process.terminationHandler = { process in exited.fire(process.terminationStatus) }
        try process.run()
        // The child has its copy; ours must go or the reader never sees end-of-file.
        try? pipe.fileHandleForWriting.close()
        self.process = process
        self.exited = exited
        self.output = output
        guard let line = await output.firstLine(containing: "listening"),
            let range = line.range(of: #"address=[^ ]*:(\d+)"#, options: .regularExpression),
            let port = Int(line[range].split(separator: ":").last ?? "")
        else {
            process.terminate()
            throw DemoServerError(message: "demo did not report its port; output:\n\(output.text)")
        }
        self.port = port
    }

    /// The server's process id, for reading its memory and descriptors in `/proc`.
    var pid: Int32 { process.processIdentifier }

    /// Sends SIGKILL, as a crash or the OOM killer would, and returns the signal that ended it.
    func kill() async -> Int32 {
        _ = Foundation.kill(process.processIdentifier, SIGKILL)
        return await exited.wait()
    }

    /// Sends SIGTERM and returns the exit status.
    func stop() async -> Int32 {
        process.terminate()
        return await exited.wait()
    }
}

struct DemoServerError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Collects a child's output and lets a test wait for a line without polling.
final class OutputCollector: @unchecked Sendable {
    // @unchecked: every stored property is read and written only while holding `lock`.
    private let lock = NSLock()
    private var buffer = ""
    private var finished = false
    private var waiters: [(String, CheckedContinuation<String?, Never>)] = []

    var text: String { lock.withLock { buffer } }

    /// Reads `handle` to its end on a thread of its own. (FileHandle's readabilityHandler was
    /// seen to stop firing on Linux, leaving a test waiting for output that had arrived.)
    func collect(from handle: FileHandle) {
        Thread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                append(String(decoding: data, as: UTF8.self))
            }
            finish()
        }.start()
    }

    func append(_ chunk: String) {
        let ready: [(CheckedContinuation<String?, Never>, String)] = lock.withLock {
            buffer += chunk
            var ready: [(CheckedContinuation<String?, Never>, String)] = []
            waiters.removeAll { needle, continuation in
                guard let line = Self.line(in: buffer, containing: needle) else { return false }
                ready.append((continuation, line))
                return true
            }
            return ready
        }
        for (continuation, line) in ready { continuation.resume(returning: line) }
    }

    func finish() {
        let pending = lock.withLock {
            finished = true
            defer { waiters = [] }
            return waiters
        }
        for (_, continuation) in pending { continuation.resume(returning: nil) }
    }

    /// The first output line containing `needle`, or `nil` if the output ends without one.
    func firstLine(containing needle: String) async -> String? {
        await withCheckedContinuation { continuation in
            let immediate: String?? = lock.withLock {
                if let line = Self.line(in: buffer, containing: needle) { return .some(line) }
                if finished { return .some(nil) }
                waiters.append((needle, continuation))
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    private static func line(in text: String, containing needle: String) -> String? {
        text.split(separator: "\n").first { $0.contains(needle) }.map(String.init)
    }
}

/// Fires once with a process's exit status.
final class ExitSignal: @unchecked Sendable {
    // @unchecked: `status` and `waiters` are only touched while holding `lock`.
    private let lock = NSLock()
    private var status: Int32?
    private var waiters: [CheckedContinuation<Int32, Never>] = []

    func fire(_ value: Int32) {
        let pending = lock.withLock {
            status = value
            defer { waiters = [] }
            return waiters
        }
        for waiter in pending { waiter.resume(returning: value) }
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let known: Int32? = lock.withLock {
                if let status { return status }
                waiters.append(continuation)
                return nil
            }
            if let known { continuation.resume(returning: known) }
        }
    }
}

/// Runs `curl` and returns its standard output, waiting without blocking a thread.
enum Curl {
    struct Result {
        let status: Int32
        let output: String
    }

    static func run(_ arguments: [String]) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "--silent", "--show-error", "--max-time", "20"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        let exited = ExitSignal()
        process.terminationHandler = { exited.fire($0.terminationStatus) }
        let collected = OutputCollector()
        try process.run()
        try? pipe.fileHandleForWriting.close()
        collected.collect(from: pipe.fileHandleForReading)
        let status = await exited.wait()
        _ = await collected.firstLine(containing: "\u{0}")  // returns at end of output
        return Result(status: status, output: collected.text)
    }
}
