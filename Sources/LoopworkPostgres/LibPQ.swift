import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// libpq's entry points, loaded from `libpq.so.5` when the first connection opens.
///
/// Loaded, not linked: an app that links LoopworkPostgres but runs without a database (the demo
/// without `--postgres`, any app whose durable tasks are switched off) would otherwise map libpq
/// and the libraries it needs (OpenSSL, GnuTLS, Kerberos, LDAP) at startup, about 4.7 MiB of its
/// resident memory, for nothing. The library stays loaded for the life of the process.
struct LibPQ: Sendable {
    /// The soname Debian's `libpq5` installs; the major version is libpq's ABI.
    static let soname = "libpq.so.5"

    /// The process's libpq, loaded once; a failure is kept, so every connection reports it.
    static let shared = Result { () throws(PostgresError) in try LibPQ(loading: soname) }

    let PQconnectStart: loopwork_PQconnectStart_function
    let PQconnectPoll: loopwork_PQconnectPoll_function
    let PQstatus: loopwork_PQstatus_function
    let PQsetnonblocking: loopwork_PQsetnonblocking_function
    let PQsetNoticeProcessor: loopwork_PQsetNoticeProcessor_function
    let PQsocket: loopwork_PQsocket_function
    let PQerrorMessage: loopwork_PQerrorMessage_function
    let PQfinish: loopwork_PQfinish_function
    let PQsendQuery: loopwork_PQsendQuery_function
    let PQsendQueryParams: loopwork_PQsendQueryParams_function
    let PQflush: loopwork_PQflush_function
    let PQconsumeInput: loopwork_PQconsumeInput_function
    let PQisBusy: loopwork_PQisBusy_function
    let PQgetResult: loopwork_PQgetResult_function
    let PQclear: loopwork_PQclear_function
    let PQnotifies: loopwork_PQnotifies_function
    let PQfreemem: loopwork_PQfreemem_function
    let PQresultStatus: loopwork_PQresultStatus_function
    let PQresStatus: loopwork_PQresStatus_function
    let PQresultErrorMessage: loopwork_PQresultErrorMessage_function
    let PQresultErrorField: loopwork_PQresultErrorField_function
    let PQnfields: loopwork_PQnfields_function
    let PQntuples: loopwork_PQntuples_function
    let PQfname: loopwork_PQfname_function
    let PQgetisnull: loopwork_PQgetisnull_function
    let PQgetvalue: loopwork_PQgetvalue_function
    let PQcmdTuples: loopwork_PQcmdTuples_function

    /// Loads `library` and looks up every entry point, so that a libpq too old to have one fails
    /// here, with its name, and not at the first call that needs it.
    ///
    /// - Throws: ``PostgresError`` of kind `connection`, saying what to install.
    init(loading library: String) throws(PostgresError) {
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            throw PostgresError(
                .connection,
                message: "libpq could not be loaded (\(Self.loaderError())); install Debian's libpq5 package")
        }
        func symbol<Function>(_ name: String) throws(PostgresError) -> Function {
            guard let address = dlsym(handle, name) else {
                throw PostgresError(
                    .connection, message: "\(library) has no \(name) (\(Self.loaderError()))")
            }
            // Sound because each property's type is the pointer type of the prototype of the
            // function it is named after (CLibPQ.h), and the symbol is that function.
            return unsafeBitCast(address, to: Function.self)
        }
        PQconnectStart = try symbol("PQconnectStart")
        PQconnectPoll = try symbol("PQconnectPoll")
        PQstatus = try symbol("PQstatus")
        PQsetnonblocking = try symbol("PQsetnonblocking")
        PQsetNoticeProcessor = try symbol("PQsetNoticeProcessor")
        PQsocket = try symbol("PQsocket")
        PQerrorMessage = try symbol("PQerrorMessage")
        PQfinish = try symbol("PQfinish")
        PQsendQuery = try symbol("PQsendQuery")
        PQsendQueryParams = try symbol("PQsendQueryParams")
        PQflush = try symbol("PQflush")
        PQconsumeInput = try symbol("PQconsumeInput")
        PQisBusy = try symbol("PQisBusy")
        PQgetResult = try symbol("PQgetResult")
        PQclear = try symbol("PQclear")
        PQnotifies = try symbol("PQnotifies")
        PQfreemem = try symbol("PQfreemem")
        PQresultStatus = try symbol("PQresultStatus")
        PQresStatus = try symbol("PQresStatus")
        PQresultErrorMessage = try symbol("PQresultErrorMessage")
        PQresultErrorField = try symbol("PQresultErrorField")
        PQnfields = try symbol("PQnfields")
        PQntuples = try symbol("PQntuples")
        PQfname = try symbol("PQfname")
        PQgetisnull = try symbol("PQgetisnull")
        PQgetvalue = try symbol("PQgetvalue")
        PQcmdTuples = try symbol("PQcmdTuples")
    }

    private static func loaderError() -> String {
        dlerror().map { String(cString: $0) } ?? "no reason given"
    }
}
