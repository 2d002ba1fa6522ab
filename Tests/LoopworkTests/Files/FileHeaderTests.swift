import Loopwork
import LoopworkUV
import Testing

@Suite("Files: ranges, entity tags, media types, dates")
struct FileHeaderTests {
    // MARK: Range

    @Test(arguments: [
        ("bytes=0-99", ByteRangeSelection.partial(0...99)),
        ("bytes=100-199", .partial(100...199)),
        ("bytes=900-", .partial(900...999)),
        ("bytes=-100", .partial(900...999)),
        ("bytes=990-5000", .partial(990...999)),
        ("BYTES=5-5", .partial(5...5)),
        ("bytes= 5-9 ", .partial(5...9)),
        ("bytes=999-999", .partial(999...999)),
        ("bytes=0-999", .whole),
        ("bytes=0-", .whole),
        ("bytes=-1000", .whole),
        ("bytes=-99999999999999999999", .whole),
        ("bytes=0-99999999999999999999", .whole),
        ("bytes=1000-", .unsatisfiable),
        ("bytes=1000-2000", .unsatisfiable),
        ("bytes=99999999999999999999-", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        // Ignored: several ranges (the whole file is sent), other units, bad syntax.
        ("bytes=0-1,5-6", .whole),
        ("bytes=0-1,", .whole),
        ("items=0-1", .whole),
        ("bytes=", .whole),
        ("bytes=abc", .whole),
        ("bytes=5", .whole),
        ("bytes=9-5", .whole),
        ("bytes=-", .whole),
        ("bytes=+1-2", .whole),
        ("bytes=1-2-3", .whole),
    ])
    func rangeOfAThousandBytes(_ field: String, _ expected: ByteRangeSelection) {
        #expect(ByteRangeSelection(parsing: field, size: 1_000) == expected)
    }

    @Test func noRangeFieldMeansTheWholeFile() {
        #expect(ByteRangeSelection(parsing: nil, size: 10) == .whole)
    }

    @Test func everyRangeOfAnEmptyFileIsUnsatisfiable() {
        for field in ["bytes=0-", "bytes=0-0", "bytes=-5"] {
            #expect(ByteRangeSelection(parsing: field, size: 0) == .unsatisfiable)
        }
    }

    // MARK: Entity tags

    @Test func aFileTagIsStrongAndChangesWithSizeTimeAndInode() {
        let status = FileStatus(
            size: 10, modificationTime: .seconds(1_700_000_000) + .nanoseconds(5),
            isRegularFile: true, isDirectory: false, inode: 42)
        let tag = EntityTag(file: status)
        #expect(!tag.isWeak)
        #expect(tag.fieldValue.hasPrefix("\"") && tag.fieldValue.hasSuffix("\""))
        let changes = [
            FileStatus(
                size: 11, modificationTime: status.modificationTime, isRegularFile: true, isDirectory: false, inode: 42),
            FileStatus(
                size: 10, modificationTime: status.modificationTime + .nanoseconds(1), isRegularFile: true,
                isDirectory: false, inode: 42),
            FileStatus(
                size: 10, modificationTime: status.modificationTime, isRegularFile: true, isDirectory: false, inode: 43),
        ]
        for changed in changes { #expect(EntityTag(file: changed) != tag) }
    }

    @Test func ifNoneMatchUsesWeakComparisonOverAList() {
        let tag = EntityTag(opaque: "abc")
        #expect(tag.matchesNoneMatchField("\"abc\""))
        #expect(tag.matchesNoneMatchField("W/\"abc\""))
        #expect(tag.matchesNoneMatchField("\"x\", W/\"y\" ,\"abc\""))
        #expect(tag.matchesNoneMatchField(" * "))
        #expect(!tag.matchesNoneMatchField("\"abcd\""))
        #expect(!tag.matchesNoneMatchField("abc"))
        #expect(!tag.matchesNoneMatchField(""))
        #expect(!tag.matchesNoneMatchField("\"x\", *"))
        // A comma inside the quotes belongs to the tag.
        #expect(EntityTag(opaque: "a,b").matchesNoneMatchField("\"q\", \"a,b\""))
        #expect(
            EntityTag.list("\"a\", W/\"b\", broken, \"c\"") == [
                EntityTag(opaque: "a"), EntityTag(opaque: "b", isWeak: true),
            ])
    }

    @Test func ifRangeNeedsOneStrongTag() {
        let tag = EntityTag(opaque: "abc")
        #expect(EntityTag(ifRangeValue: "\"abc\"").map(tag.stronglyMatches) == true)
        #expect(EntityTag(ifRangeValue: "W/\"abc\"").map(tag.stronglyMatches) == false)
        #expect(EntityTag(ifRangeValue: "\"abc\", \"def\"") == nil)
        #expect(EntityTag(ifRangeValue: "Sun, 06 Nov 1994 08:49:37 GMT") == nil)
    }

    // MARK: Media types

    @Test(arguments: [
        ("index.html", "text/html; charset=utf-8"),
        ("/a/b/STYLE.CSS", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("mod.mjs", "text/javascript; charset=utf-8"),
        ("data.json", "application/json"),
        ("notes.txt", "text/plain; charset=utf-8"),
        ("logo.svg", "image/svg+xml"),
        ("a.png", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.jpeg", "image/jpeg"),
        ("a.gif", "image/gif"),
        ("a.webp", "image/webp"),
        ("favicon.ico", "image/x-icon"),
        ("m.wasm", "application/wasm"),
        ("doc.pdf", "application/pdf"),
        ("feed.xml", "application/xml"),
        ("t.csv", "text/csv; charset=utf-8"),
        ("v.mp4", "video/mp4"),
        ("f.woff", "font/woff"),
        ("f.woff2", "font/woff2"),
        ("app.js.map", "application/json"),
        ("archive.tar.gz", "application/octet-stream"),
        ("README", "application/octet-stream"),
        (".html", "application/octet-stream"),
        ("dir.html/file", "application/octet-stream"),
    ])
    func mediaTypeByExtension(_ path: String, _ expected: String) {
        #expect(FileMediaType.forPath(path) == expected)
    }

    // MARK: Dates

    @Test func httpDatesInTheThreeFormatsParseToTheSameSecond() {
        let expected: Int64 = 784_111_777
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == expected)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == expected)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == expected)
        #expect(HTTPDate.format(expected) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.parse("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(HTTPDate.parse("Tue, 29 Feb 2028 23:59:59 GMT") == 1_835_481_599)
        for seconds: Int64 in [0, 951_782_400, 1_700_000_000, 4_102_444_800] {
            #expect(HTTPDate.parse(HTTPDate.format(seconds)) == seconds)
        }
    }

    @Test(arguments: [
        "", "yesterday", "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov +994 08:49:37 GMT",
    ])
    func malformedDatesAreRejected(_ value: String) {
        #expect(HTTPDate.parse(value) == nil)
    }
}
