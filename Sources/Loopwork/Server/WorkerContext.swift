import Logging
import LoopworkHTTP
import LoopworkUV

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
    private let requestCounter = Locked<UInt64>(0)
    private let shuttingDown = Locked(false)

    /// Set once shutdown begins: responses then carry `Connection: close`.
    var isShuttingDown: Bool {
        get { shuttingDown.withLock { $0 } }
        set { shuttingDown.withLock { $0 = newValue } }
    }

    init(index: Int, loop: EventLoop, responder: AppResponder, configuration: AppConfiguration,
         services: AppServices, logger: Logger, dateCache: HTTPDateCache) {
        self.index = index
        self.loop = loop
        self.responder = responder
        self.configuration = configuration
        self.parserLimits = HTTPParserLimits(
            maxRequestLineLength: configuration.limits.maxRequestLineLength,
            maxHeaderSectionSize: configuration.limits.maxHeaderSectionSize,
            maxFieldCount: configuration.limits.maxFieldCount,
            maxBodySize: configuration.limits.maxBodySize)
        self.serializer = HTTPResponseSerializer(serverName: configuration.serverName, dateCache: dateCache)
        self.services = services
        self.logger = logger
        self.host = LoopExecutionHost(loop: loop)
    }

    /// A short id unique within the process: worker index and a per-worker counter.
    func nextRequestID() -> String {
        let number = requestCounter.withLock { counter in
            counter &+= 1
            return counter
        }
        return String(index, radix: 36) + "-" + String(number, radix: 36)
    }
}
