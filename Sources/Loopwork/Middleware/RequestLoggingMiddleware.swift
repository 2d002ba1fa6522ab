import HTTPTypes
public import Logging

/// Logs one line per request: method, path, status and duration, with the request id.
///
/// The library itself logs nothing per request; add this middleware where a per-request access
/// log is wanted (the demo does, at `.info`).
public struct RequestLoggingMiddleware: Middleware {
    /// The level of the per-request line.
    public var level: Logger.Level

    /// Creates the middleware.
    public init(level: Logger.Level = .info) { self.level = level }

    // Inlined into the protocol witness, so that the middleware costs no async frame of its
    // own; the line is written by a plain function.
    @inline(__always)
    public func respond(to request: Request, next: Responder) async throws -> Response {
        // Below the logger's level the line is never written: skip the clock and the metadata.
        guard request.context.baseLogger.logLevel <= level else { return try await next(request) }
        let start = ContinuousClock.now
        let response = try await next(request)
        log(request, response.status, elapsed: ContinuousClock.now - start)
        return response
    }

    private func log(_ request: Request, _ status: HTTPResponse.Status, elapsed: Duration) {
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        let logger = request.context.baseLogger
        // Loopwork's own handler formats the line straight from its parts, the same bytes without
        // the message string, metadata dictionary and event swift-log would build for it.
        if let handler = logger.handler as? BufferedLogHandler {
            handler.logRequest(
                level: level, method: request.method.rawValue, path: request.path, status: status.code,
                requestID: request.context.requestID, durationMicros: Int(micros), source: "Loopwork")
            return
        }
        // The request id goes with the line's own metadata rather than through
        // `Logger.withRequestID`: a request logger would copy the handler and its metadata for
        // this one line. The source is named for the same reason: left out, swift-log would
        // parse it from the file name on every line.
        logger.log(
            level: level, "\(request.method.rawValue) \(request.path) \(status.code)",
            metadata: [
                "request-id": .string(request.context.requestID),
                "duration-us": .string(String(micros)),
            ],
            source: "Loopwork")
    }
}
