#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The job types an app registered, by name, with their parameters' coding erased.
struct JobRegistry: Sendable {
    struct Entry: Sendable {
        let name: String
        let options: DurableJobOptions
        let type: ObjectIdentifier
        /// Decodes the stored parameters and runs the job; decoding errors come as
        /// ``UndecodableParameters``.
        let run: @Sendable (String, JobContext) async throws -> Void
    }

    /// Stored parameters no longer decode as the job's `Parameters`: retrying cannot help.
    struct UndecodableParameters: Error, CustomStringConvertible {
        let description: String
    }

    let entries: [String: Entry]

    init(_ jobs: [any DurableJob]) throws(DurableTasksError) {
        var entries: [String: Entry] = [:]
        for job in jobs {
            let entry = Self.entry(for: job)
            if let existing = entries[entry.name] {
                let what = existing.type == entry.type ? "twice" : "by two types"
                throw DurableTasksError(
                    "addDurableTasks: job name '\(entry.name)' is registered \(what); each job type needs a name of its own"
                )
            }
            guard !entry.name.isEmpty else {
                throw DurableTasksError("addDurableTasks: \(type(of: job)) has an empty name")
            }
            let options = entry.options
            guard options.maxAttempts >= 1, options.timeout > .zero, (options.concurrency ?? 1) >= 1 else {
                throw DurableTasksError(
                    "job '\(entry.name)': maxAttempts and concurrency must be at least 1 and the timeout positive")
            }
            entries[entry.name] = entry
        }
        self.entries = entries
    }

    private static func entry<Job: DurableJob>(for job: Job) -> Entry {
        Entry(name: Job.name, options: Job.options, type: ObjectIdentifier(Job.self)) { parameters, context in
            let decoded: Job.Parameters
            do {
                decoded = try JSONDecoder().decode(Job.Parameters.self, from: Data(parameters.utf8))
            } catch {
                throw UndecodableParameters(description: "parameters do not decode as \(Job.Parameters.self): \(error)")
            }
            try await job.run(decoded, context: context)
        }
    }

    static func encode<Parameters: Encodable>(_ parameters: Parameters) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(parameters), as: UTF8.self)
    }

    var names: [String] { entries.keys.sorted() }
}
