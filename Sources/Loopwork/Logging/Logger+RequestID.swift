import Logging

extension Logger {
    /// This logger with the request's id as `request-id` metadata: the one key every line about
    /// a request carries, from its handler and from its background tasks alike.
    func withRequestID(_ requestID: String) -> Logger {
        var logger = self
        logger[metadataKey: "request-id"] = .string(requestID)
        return logger
    }
}
