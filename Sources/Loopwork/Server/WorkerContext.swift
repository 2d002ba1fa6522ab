import Logging
import LoopworkHTTP
import LoopworkUV
import Synchronization

/// What every connection of one worker loop shares: the app's pipeline, limits and services.
final class WorkerContext: Sendable {
    let index: Int
    let loop: EventLoop
    let responder: AppResponder
    let configuration: AppConfiguration
    let parserLimits: HTTPParserLimits
    let serializer: HTTPResponseSerializer
    let services: AppServices
    let logger: Logger
    let host: LoopExecutionHost
    private let requestCounter = Atomic<UInt64>(0)
    /// Handler tasks parked on this worker's connections (see `HTTPConnection.run(_:)`). Touched
    /// on the loop only; an atomic because the context is shared.
    private let parkedHandlerTasks = Atomic(0)
    /// A parked task keeps the slabs its deepest request took (about 12 KiB for the demo's
    /// routes): without a bound, every idle keep-alive connection would hold them. Past it, a
    /// connection's next request gets a task of its own, as every request once did.
    static let maxParkedHandlerTasks = 128
    private let shuttingDown = Atomic(false)

    /// Set once shutdown begins: responses then carry `Connection: close`. Read for every
    /// request, hence an atomic rather than a lock.
    var isShuttingDown: Bool {
        get { shuttingDown.load(ordering: .acquiring) }
        set { shuttingDown.store(newValue, ordering: .releasing) }
    }

    init(
        index: Int, loop: EventLoop, responder: AppResponder, configuration: AppConfiguration,
        services: AppServices, logger: Logger, dateCache: HTTPDateCache
    ) {
        self.index = index
        self.loop = loop
        self.responder = responder
        self.configuration = configuration
        var parserLimits = configuration.limits
        // Each body's reader enforces its own limit (a streaming route may raise it).
        parserLimits.maxBodySize = Int.max
        self.parserLimits = parserLimits
        self.serializer = HTTPResponseSerializer(serverName: configuration.serverName, dateCache: dateCache)
        self.services = services
        self.logger = logger
        self.host = LoopExecutionHost(loop: loop)
    }

    /// Takes one of the worker's parking places for a handler task; `false` when all are taken.
    func reserveParking() -> Bool {
        guard parkedHandlerTasks.load(ordering: .relaxed) < Self.maxParkedHandlerTasks else { return false }
        parkedHandlerTasks.add(1, ordering: .relaxed)
        return true
    }

    /// How many of the worker's connections have a handler task parked.
    var parkedHandlerTaskCount: Int { parkedHandlerTasks.load(ordering: .relaxed) }

    /// Gives back a place ``reserveParking()`` took.
    func releaseParking() {
        parkedHandlerTasks.subtract(1, ordering: .relaxed)
    }

    /// A short id unique within the process: worker index and a per-worker counter, in base 36
    /// (`0-2s`). Formatted by hand into one string: this runs for every request.
    func nextRequestID() -> String {
        let number = requestCounter.wrappingAdd(1, ordering: .relaxed).newValue
        // Two base-36 numbers of at most 13 digits each and the dash, built on the stack: an id of
        // up to 15 bytes (the usual) then lives inside the String, with no allocation.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 27) { buffer in
            var count = Self.appendBase36(UInt64(index), to: buffer, at: 0)
            buffer[count] = UInt8(ascii: "-")
            count += 1
            count = Self.appendBase36(number, to: buffer, at: count)
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
        }
    }

    private static func appendBase36(_ value: UInt64, to buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int)
        -> Int
    {
        let digits: StaticString = "0123456789abcdefghijklmnopqrstuvwxyz"
        var end = start
        var rest = value
        repeat {
            buffer[end] = digits.utf8Start[Int(rest % 36)]
            rest /= 36
            end += 1
        } while rest > 0
        // The digits came out least significant first.
        buffer[start..<end].reverse()
        return end
    }
}
