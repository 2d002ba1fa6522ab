#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The JSON encoder and decoder the framework uses for bodies, in one place so every route
/// encodes alike. Keys are sorted so equal values always give equal bytes (caches, ETags, tests).
enum JSONCoding {
    /// Shared: configured once, never changed after, and Foundation's coders are safe to use
    /// from several threads at once; making one per response cost measurable time.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()
    private static let decoder = JSONDecoder()

    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let data = try encoder.encode(value)
        return [UInt8](unsafeUninitializedCapacity: data.count) { buffer, count in
            count = data.copyBytes(to: buffer)
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try decoder.decode(type, from: Data(bytes))
    }
}
