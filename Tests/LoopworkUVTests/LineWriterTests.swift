import Foundation
import LoopworkUV
import Testing

/// The batched line writer behind the framework's log handler, over a pipe the test reads.
@Suite("LineWriter")
struct LineWriterTests {
    /// A pipe whose read end the test drains; the write end belongs to the writer under test.
    final class Pipe: @unchecked Sendable {
        // @unchecked: the descriptors are set once in init and only read afterwards; whether the
        // write end is open is kept under a lock.
        let readEnd: Int32
        let writeEnd: Int32

        init() throws {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { throw POSIXError(.EMFILE) }
            readEnd = ends[0]
            writeEnd = ends[1]
        }

        private let writeEndOpen = Locked(true)

        deinit {
            close(readEnd)
            closeWriteEnd()
        }

        /// Closes the write end now, so that a reader sees the end of the stream.
        func closeWriteEnd() {
            if writeEndOpen.withLock({ open in
                defer { open = false }
                return open
            }) {
                close(writeEnd)
            }
        }

        /// Everything readable now, without waiting.
        func readAvailable() -> String {
            _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                guard count > 0 else { break }
                bytes += buffer[..<count]
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    @Test func linesFromManyThreadsArriveWholeAndInEachThreadsOrderOnceFlushed() async throws {
        let pipe = try Pipe()
        let writer = LineWriter(fileDescriptor: pipe.writeEnd)
        await withTaskGroup(of: Void.self) { group in
            for thread in 0..<4 {
                group.addTask {
                    for line in 0..<200 { writer.append("t\(thread) l\(line)\n") }
                }
            }
        }
        writer.flush()
        let lines = pipe.readAvailable().split(separator: "\n")
        #expect(lines.count == 800)
        for thread in 0..<4 {
            let own = lines.filter { $0.hasPrefix("t\(thread) ") }
            #expect(own == (0..<200).map { "t\(thread) l\($0)"[...] })
        }
        #expect(writer.droppedLines == 0)
        writer.stop()
    }

    @Test func aWriterThatFallsBehindDropsCountsAndSaysSo() throws {
        let pipe = try Pipe()
        // A pipe holds 64 KiB; nobody reads it, so the writer blocks and the buffer fills.
        let writer = LineWriter(fileDescriptor: pipe.writeEnd, capacity: 4096)
        let line = String(repeating: "x", count: 99) + "\n"
        var accepted = 0
        var dropped = 0
        for _ in 0..<2000 {
            if writer.append(line) { accepted += 1 } else { dropped += 1 }
        }
        #expect(dropped > 0)
        #expect(writer.droppedLines == dropped)
        // A reader lets the writer through; stop() then writes the rest and the drop reports,
        // which may come as several (one per batch that followed drops).
        let done = DispatchSemaphore(value: 0)
        let output = Locked<[UInt8]>([])
        Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(pipe.readEnd, $0.baseAddress, $0.count) }
                guard count > 0 else { break }
                output.withLock { $0 += buffer[..<count] }
            }
            done.signal()
        }.start()
        writer.stop()
        pipe.closeWriteEnd()
        done.wait()
        let text = String(decoding: output.withLock { $0 }, as: UTF8.self)
        let reports = text.split(separator: "\n").filter { $0.hasPrefix("loopwork: ") }
        let reported = reports.compactMap { Int($0.split(separator: " ")[1]) }.reduce(0, +)
        #expect(
            !reports.isEmpty && reports.allSatisfy { $0.hasSuffix(" log lines dropped: the log writer fell behind") })
        #expect(reported == dropped)
        #expect(text.components(separatedBy: line).count - 1 == accepted)
    }

    @Test func stopWritesWhatIsQueuedAndLaterLinesAreDropped() throws {
        let pipe = try Pipe()
        let writer = LineWriter(fileDescriptor: pipe.writeEnd)
        writer.append("before\n")
        writer.stop()
        #expect(writer.append("after\n") == false)
        #expect(pipe.readAvailable() == "before\n")
    }
}
