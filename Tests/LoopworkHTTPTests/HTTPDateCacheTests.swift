import Testing

@testable import LoopworkHTTP

@Suite struct HTTPDateCacheTests {
    @Test func formatsIMFFixdate() {
        // The example from RFC 9110 §5.6.7.
        #expect(HTTPDateCache.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDateCache.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDateCache.format(1_709_251_199) == "Thu, 29 Feb 2024 23:59:59 GMT")
    }

    @Test func concurrentReadsAgree() async {
        let cache = HTTPDateCache()
        let values = await withTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { cache.current } }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(values.allSatisfy { $0.utf8.count == 29 && $0.hasSuffix(" GMT") })
    }
}
