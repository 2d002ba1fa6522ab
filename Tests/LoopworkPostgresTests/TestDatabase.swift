import Foundation
import LoopworkPostgres
import LoopworkUV
import Testing

/// The throwaway server `scripts/test-postgres.sh` started, named by the environment.
enum TestDatabase {
    static let url = ProcessInfo.processInfo.environment["LOOPWORK_TEST_POSTGRES_URL"]

    /// Set by `scripts/test.sh`: there, a missing server fails the run instead of skipping.
    static let isRequired = ProcessInfo.processInfo.environment["LOOPWORK_REQUIRE_POSTGRES"] == "1"

    static var isAvailable: Bool { url != nil }

    static var configuration: PostgresConfiguration {
        PostgresConfiguration(url ?? "", connectTimeout: .seconds(10), statementTimeout: .seconds(20))
    }

    /// A URL for a port where nothing listens: the port the test server uses, plus one, refused.
    static var refusedURL: String {
        guard let url, let components = URLComponents(string: url), let port = components.port else {
            return "postgres://127.0.0.1:1/x"
        }
        var refused = components
        refused.port = port == 65535 ? port - 1 : port + 1
        return refused.string ?? "postgres://127.0.0.1:1/x"
    }

    /// Runs `body` with a fresh loop, shut down afterwards; the loop must close cleanly.
    static func withLoop<Result: Sendable>(_ body: (EventLoop) async throws -> Result) async throws -> Result {
        let loop = try EventLoop(name: "postgres-test")
        do {
            let result = try await body(loop)
            await loop.shutdownGracefully()
            #expect(loop.closeStatus == 0)
            return result
        } catch {
            await loop.shutdownGracefully()
            throw error
        }
    }

    static func withConnection<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws
        -> Result
    {
        try await withLoop { loop in
            let connection = try await PostgresConnection.connect(configuration, on: loop)
            do {
                let result = try await body(connection)
                await connection.close()
                return result
            } catch {
                await connection.close()
                throw error
            }
        }
    }
}

@Suite("The test database")
struct TestDatabaseTests {
    @Test("scripts/test.sh provides a server to the database tests")
    func serverIsThereWhenRequired() {
        // Outside scripts/test.sh the database suites are skipped, as the trait says; inside it
        // they must run.
        #expect(
            !TestDatabase.isRequired || TestDatabase.isAvailable,
            "LOOPWORK_REQUIRE_POSTGRES=1 but LOOPWORK_TEST_POSTGRES_URL is unset: start scripts/test-postgres.sh")
    }
}
