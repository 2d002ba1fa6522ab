import Foundation

/// A directory tree for file-serving tests, removed by ``remove()``:
///
/// ```
/// <base>/public/hello.txt          "hello, world\n"
/// <base>/public/big.bin            200 000 patterned bytes (several 64 KiB reads)
/// <base>/public/empty.txt
/// <base>/public/docs/index.html
/// <base>/public/docs/guide.css
/// <base>/public/inner-link.txt  -> hello.txt
/// <base>/public/escape.txt      -> ../private/secret.txt
/// <base>/public/escape-dir      -> ../private
/// <base>/private/secret.txt
/// ```
struct FileFixture {
    let base: String
    var root: String { base + "/public" }
    static let hello = Array("hello, world\n".utf8)
    static let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 251) }
    static let index = Array("<h1>docs</h1>".utf8)

    init() throws {
        let fileManager = FileManager.default
        base = fileManager.temporaryDirectory.appendingPathComponent("loopwork-files-\(UUID().uuidString)").path
        for directory in ["/public/docs", "/private"] {
            try fileManager.createDirectory(atPath: base + directory, withIntermediateDirectories: true)
        }
        try Data(Self.hello).write(to: URL(fileURLWithPath: base + "/public/hello.txt"))
        try Data(Self.big).write(to: URL(fileURLWithPath: base + "/public/big.bin"))
        try Data().write(to: URL(fileURLWithPath: base + "/public/empty.txt"))
        try Data(Self.index).write(to: URL(fileURLWithPath: base + "/public/docs/index.html"))
        try Data("body{}".utf8).write(to: URL(fileURLWithPath: base + "/public/docs/guide.css"))
        try Data("top secret".utf8).write(to: URL(fileURLWithPath: base + "/private/secret.txt"))
        try fileManager.createSymbolicLink(atPath: base + "/public/inner-link.txt", withDestinationPath: "hello.txt")
        try fileManager.createSymbolicLink(
            atPath: base + "/public/escape.txt", withDestinationPath: "../private/secret.txt")
        try fileManager.createSymbolicLink(atPath: base + "/public/escape-dir", withDestinationPath: "../private")
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: base)
    }
}
