import Testing

@testable import LoopworkPostgres

@Suite("Loading libpq")
struct LibPQLoadingTests {
    @Test("the installed libpq loads with every entry point")
    func installedLibraryLoads() throws {
        _ = try LibPQ.shared.get()
    }

    @Test(
        "a library that is missing, or lacks libpq's functions, fails with a connection error saying why",
        arguments: [
            ("libloopwork-absent.so.5", "libpq could not be loaded (libloopwork-absent.so.5"),
            ("libc.so.6", "libc.so.6 has no PQconnectStart"),
        ])
    func unusableLibraryIsNamed(library: String, reason: String) {
        #expect {
            _ = try LibPQ(loading: library)
        } throws: { error in
            guard let error = error as? PostgresError, error.kind == .connection else { return false }
            return error.message.hasPrefix(reason)
        }
    }

    @Test("a missing library's error says which package to install")
    func missingLibraryNamesThePackage() throws {
        let error = try #require(throws: PostgresError.self) { try LibPQ(loading: "libloopwork-absent.so.5") }
        #expect(error.message.hasSuffix("install Debian's libpq5 package"))
    }
}
