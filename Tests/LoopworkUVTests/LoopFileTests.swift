import Foundation
import LoopworkUV
import Testing

/// A fresh directory under the system's temporary one, removed by ``remove()``.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("loopfile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// How many of this process's descriptors are open on `file`, from `/proc/self/fd`.
    static func descriptors(openOn file: String) -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.filter {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) == file
        }.count
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Runs `body` with a fresh loop and directory, then checks that the loop closed cleanly (every
/// file request finished, every descriptor closed by its request).
private func withLoopAndDirectory(_ body: (EventLoop, TemporaryDirectory) async throws -> Void) async throws {
    let loop = try EventLoop(name: "loopfile-test")
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    do {
        try await body(loop, directory)
    } catch {
        await loop.shutdownGracefully()
        throw error
    }
    await loop.shutdownGracefully()
    #expect(loop.closeStatus == 0)
}

/// Bytes that differ at every offset within 251, so a read from the wrong place shows.
private func pattern(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8($0 % 251) }
}

@Suite("LoopFile")
struct LoopFileTests {
    @Test func readsAWholeFileInOneCallAndInPiecesAtOffsets() async throws {
        try await withLoopAndDirectory { loop, directory in
            let bytes = pattern(200_000)
            let path = try directory.write("data.bin", bytes)
            let file = try await LoopFile.open(path, on: loop)
            #expect(try await file.read(upTo: 300_000, at: 0) == bytes)
            #expect(try await file.read(upTo: 1_000, at: 12_345) == Array(bytes[12_345..<13_345]))
            var collected: [UInt8] = []
            while true {
                let piece = try await file.read(upTo: 65_536, at: Int64(collected.count))
                if piece.isEmpty { break }
                collected += piece
            }
            #expect(collected == bytes)
            await file.close()
        }
    }

    @Test func readsAtAndPastTheEndReturnTheRestThenNothing() async throws {
        try await withLoopAndDirectory { loop, directory in
            let path = try directory.write("short.txt", Array("hello".utf8))
            let file = try await LoopFile.open(path, on: loop)
            #expect(try await file.read(upTo: 100, at: 3) == Array("lo".utf8))
            #expect(try await file.read(upTo: 100, at: 5) == [])
            #expect(try await file.read(upTo: 100, at: 1_000) == [])
            #expect(try await file.read(upTo: 0, at: 0) == [])
            let negative = await #expect(throws: UVError.self) { try await file.read(upTo: 1, at: -1) }
            #expect(negative?.name == "EINVAL")
            await file.close()
        }
    }

    @Test func anEmptyFileReadsAsEndOfFileAtOnce() async throws {
        try await withLoopAndDirectory { loop, directory in
            let file = try await LoopFile.open(try directory.write("empty", []), on: loop)
            #expect(try await file.status().size == 0)
            #expect(try await file.read(upTo: 10, at: 0) == [])
            await file.close()
        }
    }

    @Test func statusDescribesFilesAndDirectories() async throws {
        try await withLoopAndDirectory { loop, directory in
            let before = Date().timeIntervalSince1970
            let path = try directory.write("file.txt", pattern(1_234))
            let file = try await LoopFile.open(path, on: loop)
            let status = try await file.status()
            #expect(status.size == 1_234)
            #expect(status.isRegularFile)
            #expect(!status.isDirectory)
            #expect(status.inode != 0)
            let seconds = Double(status.modificationTime.components.seconds)
            #expect(abs(seconds - before) < 60)
            #expect(try await loop.status(ofPath: path) == status)
            await file.close()

            let directoryStatus = try await loop.status(ofPath: directory.path)
            #expect(directoryStatus.isDirectory)
            #expect(!directoryStatus.isRegularFile)
            // A directory opens; reading it fails, which is why callers check the status first.
            let opened = try await LoopFile.open(directory.path, on: loop)
            #expect(try await opened.status().isDirectory)
            let error = await #expect(throws: UVError.self) { try await opened.read(upTo: 10, at: 0) }
            #expect(error?.name == "EISDIR")
            await opened.close()
        }
    }

    @Test func aMissingFileFailsWithENOENT() async throws {
        try await withLoopAndDirectory { loop, directory in
            let missing = directory.path + "/missing"
            let opening = await #expect(throws: UVError.self) { try await LoopFile.open(missing, on: loop) }
            #expect(opening?.name == "ENOENT")
            #expect(opening?.operation == "uv_fs_open")
            let stat = await #expect(throws: UVError.self) { try await loop.status(ofPath: missing) }
            #expect(stat?.name == "ENOENT")
            let real = await #expect(throws: UVError.self) { try await loop.realPath(missing) }
            #expect(real?.name == "ENOENT")
        }
    }

    @Test func aPathWithNULIsRefusedRatherThanCutShort() async throws {
        try await withLoopAndDirectory { loop, directory in
            let path = try directory.write("secret", [1])
            let error = await #expect(throws: UVError.self) { try await LoopFile.open(path + "\0.txt", on: loop) }
            #expect(error?.name == "EINVAL")
        }
    }

    @Test func realPathResolvesSymbolicLinksAndDots() async throws {
        try await withLoopAndDirectory { loop, directory in
            try directory.write("target.txt", [1, 2, 3])
            try FileManager.default.createDirectory(atPath: directory.path + "/sub", withIntermediateDirectories: false)
            try FileManager.default.createSymbolicLink(
                atPath: directory.path + "/sub/link", withDestinationPath: "../target.txt")
            // The temporary directory itself may sit behind a link (/tmp on some systems).
            let root = try await loop.realPath(directory.path)
            #expect(try await loop.realPath(directory.path + "/sub/link") == root + "/target.txt")
            #expect(try await loop.realPath(directory.path + "/sub/../sub/./link") == root + "/target.txt")
            // Opening the link opens its target.
            let file = try await LoopFile.open(directory.path + "/sub/link", on: loop)
            #expect(try await file.read(upTo: 10, at: 0) == [1, 2, 3])
            await file.close()
        }
    }

    @Test func callsWorkFromTheLoopThreadAndFromOthers() async throws {
        try await withLoopAndDirectory { loop, directory in
            let path = try directory.write("data", pattern(10_000))
            #expect(!loop.inEventLoop)
            let offLoop = try await LoopFile.open(path, on: loop)
            #expect(try await offLoop.read(upTo: 10, at: 100) == Array(pattern(110)[100...]))
            await offLoop.close()

            // A task preferring the loop makes each call directly on the loop's thread.
            let onLoop = Task(executorPreference: loop.taskExecutor) { () async throws -> [Bool] in
                var onThread = [loop.inEventLoop]
                let file = try await LoopFile.open(path, on: loop)
                onThread.append(loop.inEventLoop)
                let bytes = try await file.read(upTo: 10, at: 100)
                onThread.append(loop.inEventLoop && bytes == Array(pattern(110)[100...]))
                #expect(try await loop.status(ofPath: path).size == 10_000)
                await file.close()
                onThread.append(loop.inEventLoop)
                return onThread
            }
            #expect(try await onLoop.value == [true, true, true, true])
        }
    }

    @Test func manyReadsInFlightFromManyTasksEachGetTheirOwnBytes() async throws {
        try await withLoopAndDirectory { loop, directory in
            let bytes = pattern(100_000)
            let file = try await LoopFile.open(try directory.write("data", bytes), on: loop)
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<64 {
                    group.addTask {
                        let offset = index * 1_500
                        return try await file.read(upTo: 1_500, at: Int64(offset))
                            == Array(bytes[offset..<offset + 1_500])
                    }
                }
                for try await matches in group { #expect(matches) }
            }
            await file.close()
        }
    }

    @Test func closingTwiceIsHarmlessAndLaterCallsFailWithEBADF() async throws {
        try await withLoopAndDirectory { loop, directory in
            let file = try await LoopFile.open(try directory.write("data", [1, 2, 3]), on: loop)
            await file.close()
            await file.close()
            let read = await #expect(throws: UVError.self) { try await file.read(upTo: 3, at: 0) }
            #expect(read?.name == "EBADF")
            let status = await #expect(throws: UVError.self) { try await file.status() }
            #expect(status?.name == "EBADF")
        }
    }

    @Test func aCloseDuringReadsWaitsForThemAndConcurrentClosesAllReturn() async throws {
        try await withLoopAndDirectory { loop, directory in
            let bytes = pattern(50_000)
            let file = try await LoopFile.open(try directory.write("data", bytes), on: loop)
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        do throws(UVError) {
                            return try await file.read(upTo: 50_000, at: 0) == bytes ? "read" : "wrong bytes"
                        } catch {
                            return error.name
                        }
                    }
                }
                for _ in 0..<4 {
                    group.addTask {
                        await file.close()
                        return "closed"
                    }
                }
                var outcomes: [String] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            #expect(outcomes.filter { $0 == "closed" }.count == 4)
            // Each read either ran before the close, whole, or came after it and was refused.
            #expect(outcomes.allSatisfy { ["read", "EBADF", "closed"].contains($0) })
        }
    }

    @Test func aFileDroppedOpenIsClosedAndTheLoopStillClosesCleanly() async throws {
        try await withLoopAndDirectory { loop, directory in
            let path = try directory.write("data", [1])
            for _ in 0..<100 {
                let file = try await LoopFile.open(path, on: loop)
                #expect(try await file.read(upTo: 1, at: 0) == [1])
            }
            await loop.shutdownGracefully()
            // The loop ran until every fire-and-forget close had finished.
            #expect(
                TemporaryDirectory.descriptors(openOn: URL(fileURLWithPath: path).resolvingSymlinksInPath().path) == 0)
        }
    }

    @Test func callsOnALoopThatShutDownFailWithLoopClosed() async throws {
        let loop = try EventLoop()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("data", [1, 2])
        let file = try await LoopFile.open(path, on: loop)
        await loop.shutdownGracefully()
        let opening = await #expect(throws: UVError.self) { try await LoopFile.open(path, on: loop) }
        #expect(opening == .loopClosed)
        let reading = await #expect(throws: UVError.self) { try await file.read(upTo: 2, at: 0) }
        #expect(reading == .loopClosed)
        let real = await #expect(throws: UVError.self) { try await loop.realPath(path) }
        #expect(real == .loopClosed)
        // The descriptor is closed right here: the loop is gone.
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        #expect(TemporaryDirectory.descriptors(openOn: resolved) == 1)
        await file.close()
        #expect(TemporaryDirectory.descriptors(openOn: resolved) == 0)
        #expect(loop.closeStatus == 0)
    }
}
