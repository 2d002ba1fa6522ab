import Testing

@testable import LoopworkPostgres

@Suite("Loading libpq")
struct LibPQLoadingTests {
    @Test("the installed libpq loads with every entry point")
    func installedLibraryLoads() throws {
        _ = try LibPQ.shared.get()
    }

    @Test("a library that is not there fails with the loader's reason and what to install")
    func missingLibraryNamesThePackage() {
        #expect {
            _ = try LibPQ(loading: "libloopwork-absent.so.5")
        } throws: { error in
            guard let error = error as? PostgresError, error.kind == .connection else { return false }
            return error.message.contains("libloopwork-absent.so.5") && error.message.contains("libpq5")
        }
    }

    @Test("a library without libpq's functions fails naming the first one missing")
    func libraryWithoutTheFunctionsNamesIt() {
        #expect {
            _ = try LibPQ(loading: "libc.so.6")
        } throws: { error in
            guard let error = error as? PostgresError, error.kind == .connection else { return false }
            return error.message.hasPrefix("libc.so.6 has no PQconnectStart")
        }
    }
}
