import Dispatch
package import HTTPTypes
import Logging
import LoopworkUV
public import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// A running app: where it listens, and how to stop it.
public final class RunningApp: Sendable {
    let runtime: AppRuntime

    init(runtime: AppRuntime) { self.runtime = runtime }

    /// The bound port (the real one when the configuration asked for port 0).
    public var port: Int { runtime.port }

    /// Stops the app gracefully and returns when it has stopped; safe to call more than once.
    public func shutdown() async { await runtime.shutdown() }

    /// Returns once the app has stopped.
    public func waitUntilStopped() async { await runtime.waitUntilStopped() }

    /// Each worker's listening socket descriptor (nil while paused), for tests that break one.
    package func listenerDescriptors() async -> [Int32?] {
        var descriptors: [Int32?] = []
        for worker in runtime.workers { descriptors.append(await worker.listenerDescriptor) }
        return descriptors
    }

    /// Answers one request in-process (no socket), for the router test mode; a streamed body
    /// comes back collected, at most `maxResponseBytes`.
    package func respond(to head: HTTPRequest, body: [UInt8], maxResponseBytes: Int = 1 << 30) async -> Response {
        await runtime.respond(to: head, body: body, maxResponseBytes: maxResponseBytes)
    }
}

extension App {
    /// Starts serving and returns at once; stop it with ``RunningApp/shutdown()``.
    ///
    /// - Throws: ``AppConfigurationError`` when the app is misconfigured (the message names the
    ///   route or setting), or the socket error when the address cannot be bound.
    public func start() async throws -> RunningApp {
        RunningApp(runtime: try await AppRuntime.start(self, listen: true))
    }

    /// Starts serving on `host` and `port` instead of the configured address (tests use port 0).
    package func start(host: String, port: Int) async throws -> RunningApp {
        RunningApp(runtime: try await AppRuntime.start(self, listen: true, host: host, port: port))
    }

    /// Starts the app without a listener, for in-process testing.
    package func startWithoutListening() async throws -> RunningApp {
        RunningApp(runtime: try await AppRuntime.start(self, listen: false))
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully and returns. Blocks the
    /// calling thread: for `main.swift`. From async code use the `async` overload, or run the
    /// app in a `ServiceGroup` (as a `Service`, through `run()`), which leaves the signals to the
    /// group. Unavailable from async code, where blocking would hold a cooperative thread.
    @available(*, noasync, message: "use the async runUntilSignalled(), or a ServiceGroup")
    public func runUntilSignalled() throws {
        let finished = DispatchSemaphore(value: 0)
        let outcome = Locked<Result<Void, any Error>>(.success(()))
        Task {
            do {
                try await self.runUntilSignalled()
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
            finished.signal()
        }
        finished.wait()
        try outcome.withLock { $0 }.get()
    }

    /// Serves until SIGINT or SIGTERM arrives, then shuts down gracefully.
    ///
    /// The same as the blocking overload, without blocking a thread.
    public func runUntilSignalled() async throws {
        let running = try await start()
        let loop = running.runtime.loops[0]
        let installed: Bool = await withCheckedContinuation { continuation in
            let accepted = loop.execute {
                do {
                    // libuv holds each watcher until the loops close every handle at shutdown.
                    for signal in [SIGINT, SIGTERM] {
                        _ = try SignalWatcher.watch(on: loop, signal: signal) { number in
                            running.runtime.app.logger.info("signal received", metadata: ["signal": "\(number)"])
                            Task { await running.shutdown() }
                        }
                    }
                    continuation.resume(returning: true)
                } catch {
                    continuation.resume(returning: false)
                }
            }
            if !accepted { continuation.resume(returning: false) }
        }
        if !installed {
            logger.error("could not watch SIGINT/SIGTERM; stop the app with its shutdown() instead")
        }
        await running.waitUntilStopped()
    }
}

extension App: Service {
    /// Runs the app as a swift-service-lifecycle `Service`: serves until the group's graceful
    /// shutdown (or task cancellation), then shuts down gracefully.
    ///
    /// Watches no signals itself: the `ServiceGroup`'s `gracefulShutdownSignals` decide. To serve
    /// until SIGINT or SIGTERM without a group, use `runUntilSignalled()`.
    public func run() async throws {
        let running = try await start()
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await running.waitUntilStopped()
            } onGracefulShutdown: {
                Task { await running.shutdown() }
            }
        } onCancel: {
            Task { await running.shutdown() }
        }
    }
}
