package import Logging
package import LoopworkUV

/// App-wide services that take part in the app's life: started before the first request,
/// drained at shutdown. The task supervisor installed by `addTasks` is one.
package protocol AppService: AnyObject, Sendable {
    /// Called once while the app starts, before any request is served.
    func appWillStart(logger: Logger) throws
    /// Called once the worker loops run and before any listener binds: a service that needs I/O
    /// to start (a database) does it here, and its error fails the start.
    func appDidStartLoops(_ loops: [EventLoop], logger: Logger) async throws
    /// Called at shutdown after in-flight requests finished and before user shutdown hooks;
    /// returns when the service has drained or its own deadline (such as the one given to
    /// `addTasks`) has passed.
    func drain(logger: Logger) async
}

extension AppService {
    package func appWillStart(logger: Logger) throws {}
    package func appDidStartLoops(_ loops: [EventLoop], logger: Logger) async throws {}
}

/// The registry of the app's services, looked up by type.
package final class AppServices: Sendable {
    private let services = Locked<[ObjectIdentifier: any AppService]>([:])

    package init() {}

    package func install<Service: AppService>(_ service: Service) {
        services.withLock { $0[ObjectIdentifier(Service.self)] = service }
    }

    package func service<Service: AppService>(_ type: Service.Type) -> Service? {
        services.withLock { $0[ObjectIdentifier(type)] as? Service }
    }

    package var all: [any AppService] {
        services.withLock { Array($0.values) }
    }
}
