import LoopworkPostgres
import Testing

@Suite("PostgresConfiguration")
struct PostgresConfigurationTests {
    @Test(
        "the redacted connection string hides a password and keeps the rest",
        arguments: [
            ("postgres://app:s3cret@db:5432/app", "postgres://app:***@db:5432/app"),
            ("postgres://app@db/app", "postgres://app@db/app"),
            ("postgresql://db/app", "postgresql://db/app"),
            ("host=db dbname=app password=s3cret", "(connection string with a password)"),
            ("host=/run/postgresql dbname=app", "host=/run/postgresql dbname=app"),
        ])
    func redacted(connectionString: String, expected: String) {
        #expect(PostgresConfiguration(connectionString).redactedConnectionString == expected)
    }
}
