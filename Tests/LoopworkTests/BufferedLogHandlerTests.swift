import Foundation
import Logging
import LoopworkUV
import Testing

@testable import Loopwork

@Suite("BufferedLogHandler")
struct BufferedLogHandlerTests {
    @Test func linesLookLikeStreamLogHandlersAndMergeMetadataInOrder() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer {
            close(ends[0])
            close(ends[1])
        }
        let writer = LineWriter(fileDescriptor: ends[1])
        var logger = Logger(label: "demo") { label in
            BufferedLogHandler(label: label, writer: writer, metadataProvider: nil)
        }
        logger[metadataKey: "request-id"] = "r1"
        logger.info("served", metadata: ["status": "200", "a": "x"], source: "Loopwork")
        logger.debug("below the level")
        struct Failure: Error {}
        logger.error("failed", error: Failure())
        writer.stop()
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, $0.count) }
        let lines = String(decoding: buffer[..<max(0, count)], as: UTF8.self).split(
            separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[2].isEmpty)
        let stamp = #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} "#
        #expect(
            lines[0].range(
                of: stamp + #"info demo: a=x request-id=r1 status=200 \[Loopwork\] served$"#,
                options: .regularExpression) != nil, "\(lines[0])")
        #expect(lines[1].contains(" error demo: error.message=Failure() error.type="), "\(lines[1])")
        #expect(lines[1].hasSuffix("request-id=r1 [LoopworkTests] failed"), "\(lines[1])")
    }

    @Test func theEventsKeyWinsOverTheProvidersOverTheLoggersAndALongLineStaysWhole() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let writer = LineWriter(fileDescriptor: ends[1])
        let provider = Logger.MetadataProvider { ["k": "provider", "p": "provider"] }
        var logger = Logger(label: "demo") { label in
            BufferedLogHandler(label: label, writer: writer, metadataProvider: provider)
        }
        logger[metadataKey: "k"] = "logger"
        logger[metadataKey: "p"] = "logger"
        logger[metadataKey: "l"] = "logger"
        // 3,000 bytes: past the buffer a line is formatted in on the stack.
        let long = String(repeating: "é", count: 1500)
        logger.info("\(long)", metadata: ["k": "event"], source: "S")
        logger.info("short", source: "S")
        logger.info("", metadata: ["empty": ""], source: "S")
        writer.stop()
        close(ends[1])
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            output += buffer[..<count]
        }
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
        try #require(lines.count == 3)
        #expect(lines[0].hasSuffix(" info demo: k=event l=logger p=provider [S] " + long))
        #expect(lines[1].hasSuffix(" info demo: k=provider l=logger p=provider [S] short"), "\(lines[1])")
        #expect(lines[2].hasSuffix(" info demo: empty= k=provider l=logger p=provider [S] "), "\(lines[2])")
    }
}
