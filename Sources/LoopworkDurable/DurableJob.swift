public import Logging

/// Work that survives its process: a registered type with a stable name and `Codable`
/// parameters, run by whichever instance of the app is free.
///
/// ```swift
/// struct SendWelcomeEmail: DurableJob {
///     static let name = "send-welcome-email"
///     struct Parameters: Codable, Sendable { let email: String }
///     let mailer: Mailer
///     func run(_ parameters: Parameters, context: JobContext) async throws {
///         try await mailer.send(to: parameters.email, template: .welcome)
///     }
/// }
/// app.addDurableTasks(postgres: url, jobs: [SendWelcomeEmail(mailer: mailer)])
/// ```
///
/// A job may run more than once (its instance died mid-run, a retry after an error), so make it
/// idempotent. Its parameters are stored as JSON: renaming a field makes stored jobs undecodable
/// (they end *dead*, with the decoding error); add fields as optionals instead.
public protocol DurableJob: Sendable {
    /// What the job's parameters are; stored as JSON in the job's row.
    associatedtype Parameters: Codable & Sendable

    /// The job's stable name, the key in the database: never change it once jobs are stored.
    static var name: String { get }

    /// Retries, time limit and concurrency; the defaults of ``DurableJobOptions``.
    static var options: DurableJobOptions { get }

    /// Does the work. Throwing fails this attempt: the job is retried after a backoff until it
    /// has used ``DurableJobOptions/maxAttempts``, then it is dead. Cancellation means the job's
    /// time limit passed or the instance is shutting down; return or throw promptly then.
    func run(_ parameters: Parameters, context: JobContext) async throws
}

extension DurableJob {
    public static var options: DurableJobOptions { DurableJobOptions() }
}

/// How a job type is retried, bounded and spread.
public struct DurableJobOptions: Sendable {
    /// How many times a job runs at most before it is dead, the first run included.
    public var maxAttempts: Int
    /// How long one attempt may run before it is cancelled and counted as failed.
    public var timeout: Duration
    /// How many jobs of this type one instance runs at once; `nil` is bounded only by the
    /// instance's overall limit.
    public var concurrency: Int?
    /// The delay before the first retry; it doubles with each further attempt (with jitter).
    public var retryDelay: Duration
    /// The cap on the doubling retry delay.
    public var maximumRetryDelay: Duration

    /// Sets what a job type needs; the defaults suit short jobs such as sending a message.
    public init(
        maxAttempts: Int = 5, timeout: Duration = .seconds(60), concurrency: Int? = nil,
        retryDelay: Duration = .seconds(1), maximumRetryDelay: Duration = .seconds(300)
    ) {
        self.maxAttempts = maxAttempts
        self.timeout = timeout
        self.concurrency = concurrency
        self.retryDelay = retryDelay
        self.maximumRetryDelay = maximumRetryDelay
    }
}

/// What a running job knows about itself.
public struct JobContext: Sendable {
    /// The job's id, as ``DurableJobHandle/id`` returned it.
    public let jobID: String
    /// The job type's name.
    public let name: String
    /// Which attempt this is, from 1.
    public let attempt: Int
    /// The most attempts the job gets.
    public let maxAttempts: Int
    /// The id of the request that scheduled the job, when a request did.
    public let requestID: String?
    /// A logger whose lines carry the job's id, name, attempt and the scheduling request's id.
    public let logger: Logger

    /// Whether a failure of this attempt makes the job dead instead of retried.
    public var isLastAttempt: Bool { attempt >= maxAttempts }
}

/// A scheduled durable job: its id, to look it up later with ``DurableQueue/job(id:)``.
public struct DurableJobHandle: Sendable, Hashable {
    /// The job's id (a UUID).
    public let id: String
    /// Whether this schedule created the job; `false` when an unfinished job with the same
    /// idempotency key already existed, whose id this is.
    public let created: Bool
}

/// Where a durable job is in its life.
public enum DurableJobState: String, Sendable, Codable, CaseIterable {
    /// Recorded by a request, waiting for its moment (the handler returned, the response sent).
    case held
    /// Runnable, waiting for a worker.
    case queued
    /// A worker runs it.
    case running
    /// It finished without error.
    case succeeded
    /// Its last attempt failed; it is retried at its next run time.
    case failed
    /// It failed on every attempt, or cannot run at all (parameters that no longer decode); kept
    /// with its last error for inspection.
    case dead
}

/// A durable job as the database holds it.
public struct DurableJobRecord: Sendable, Equatable {
    public let id: String
    public let name: String
    public let state: DurableJobState
    /// Attempts started so far.
    public let attempts: Int
    public let maxAttempts: Int
    /// The error of the last failed attempt.
    public let lastError: String?
    /// The id of the request that scheduled it.
    public let requestID: String?
}
