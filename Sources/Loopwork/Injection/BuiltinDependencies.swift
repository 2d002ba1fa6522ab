public import HTTPTypes
public import Logging

extension Request: RequestDependency {
    public static func resolve(from request: Request) async throws -> Request { request }
}

extension PathParameters: RequestDependency {
    public static func resolve(from request: Request) async throws -> PathParameters { request.pathParameters }
}

extension QueryParameters: RequestDependency {
    public static func resolve(from request: Request) async throws -> QueryParameters { request.query }
}

extension HTTPFields: RequestDependency {
    public static func resolve(from request: Request) async throws -> HTTPFields { request.headerFields }
}

extension Logger: RequestDependency {
    /// The request's logger, carrying its request id.
    public static func resolve(from request: Request) async throws -> Logger { request.context.logger }
}

/// The whole request body, collected within the app's body limit (`maxBodySize` of
/// ``AppConfiguration/limits``; 413 beyond).
public struct RawBody: RequestDependency {
    /// The body bytes.
    public let bytes: [UInt8]

    public static func resolve(from request: Request) async throws -> RawBody {
        RawBody(bytes: try await request.body.collect())
    }
}

/// The request body decoded from JSON into `Value`, collected within the app's
/// body limit (`maxBodySize` of ``AppConfiguration/limits``; 413 beyond).
///
/// A body that is not JSON, or does not match `Value`, answers 422 with a `detail` saying what did
/// not match; a request with another `Content-Type` than JSON answers 415.
public struct JSONBody<Value: Decodable & Sendable>: RequestDependency {
    /// The decoded value.
    public let value: Value

    public static func resolve(from request: Request) async throws -> JSONBody<Value> {
        if let contentType = request.headerFields[.contentType],
            !MediaType.isJSON(contentType)
        {
            throw HTTPError(.unsupportedMediaType, detail: "expected an application/json body, got '\(contentType)'")
        }
        let bytes = try await request.body.collect()
        guard !bytes.isEmpty else {
            throw HTTPError(.unprocessableContent, detail: "request body is empty; expected JSON for \(Value.self)")
        }
        do {
            return JSONBody(value: try JSONCoding.decode(Value.self, from: bytes))
        } catch {
            throw HTTPError(
                .unprocessableContent,
                detail: "invalid JSON body for \(Value.self): \(DecodingErrorText.describe(error))")
        }
    }
}

enum MediaType {
    static func isJSON(_ value: String) -> Bool {
        let essence = value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces().lowercased() } ?? ""
        return essence == "application/json" || (essence.hasPrefix("application/") && essence.hasSuffix("+json"))
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var slice = self
        while slice.first == " " || slice.first == "\t" { slice.removeFirst() }
        while slice.last == " " || slice.last == "\t" { slice.removeLast() }
        return slice
    }
}
