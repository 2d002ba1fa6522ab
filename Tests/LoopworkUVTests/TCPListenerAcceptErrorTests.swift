// Linux only: the way these tests make accept fail, shutdown(SHUT_RD) on a listening socket, is
// Linux behaviour; elsewhere it fails with ENOTCONN and changes nothing.
#if os(Linux)
    import Glibc
    import LoopworkUV
    import Testing

    /// What the loop saw while the listener's accepts failed.
    private struct AcceptErrorOutcome: Sendable {
        var errors: [UVError] = []
        /// Every ``TCPListener/onAcceptError`` call ran on the loop thread.
        var alwaysOnLoop = true
        /// The listener had not closed itself when an error was reported.
        var alwaysOpen = true
        var connections = 0
        /// Why the run could not break the socket, or gave up waiting for errors.
        var failure: String?
    }

    /// The broken socket's descriptor, as far as a thread other than the loop may use it.
    ///
    /// libuv retries a persistent accept error in a tight loop until the listener is closed, so if
    /// the error never reached ``TCPListener/onAcceptError`` (the regression these tests look for)
    /// the loop thread would spin forever and no loop timer could end the test. The rescue puts the
    /// socket back into the listening state from outside, which ends the spin. The lock makes sure
    /// it never touches the descriptor once the loop has started closing it: the number could
    /// belong to another test's file by then.
    private final class RescuableSocket: Sendable {
        private let descriptor = Locked<Int32?>(nil)

        /// Loop thread: the socket is about to be broken.
        func arm(_ fd: Int32) { descriptor.withLock { $0 = fd } }

        /// Loop thread, before closing the listener.
        func disarm() { descriptor.withLock { $0 = nil } }

        /// Any thread: makes `accept` report "nothing pending" again if the socket is still open.
        func rescue() {
            descriptor.withLock { fd in
                if let open = fd { _ = listen(open, 1) }
                fd = nil
            }
        }
    }

    /// Loop-only state of one run; it never leaves the loop thread.
    private final class AcceptErrorRun {
        var outcome = AcceptErrorOutcome()
        var listener: TCPListener?
        var watchdog: LoopTimer?
        let socket: RescuableSocket
        private var continuation: CheckedContinuation<AcceptErrorOutcome, Never>?

        init(socket: RescuableSocket, continuation: CheckedContinuation<AcceptErrorOutcome, Never>) {
            self.socket = socket
            self.continuation = continuation
        }

        /// Closes the listener and hands the outcome back; later calls only add a failure note.
        func finish(_ failure: String? = nil) {
            if outcome.failure == nil, let failure { outcome.failure = failure }
            watchdog?.cancel()
            watchdog = nil
            socket.disarm()
            guard let listener else {
                resume()
                return
            }
            self.listener = nil
            // From the close callback: libuv calls the listener no more after that, so counts are final.
            listener.close { [self] in
                listener.onAcceptError = nil
                resume()
            }
        }

        private func resume() {
            continuation?.resume(returning: outcome)
            continuation = nil
        }
    }

    /// Listens on 127.0.0.1, makes the kernel take the socket out of the listening state, and
    /// records ``TCPListener/onAcceptError`` calls until `count` of them arrived, then closes.
    ///
    /// `shutdown(fd, SHUT_RD)` on a listening socket makes Linux disconnect it (back to TCP_CLOSE)
    /// and wake its pollers. libuv's accept watcher sees the wake-up, calls `accept`, and gets
    /// `EINVAL` because the socket no longer listens: a real kernel error delivered through the
    /// connection callback's status, on a socket only this test owns (nothing process-wide such as
    /// `RLIMIT_NOFILE` is touched). The error persists, so libuv reports it on every retry until the
    /// listener is closed.
    private func breakListenerAndCollect(errors count: Int) async throws -> AcceptErrorOutcome {
        let loop = try EventLoop(name: "accept-error")
        let socket = RescuableSocket()
        // A deadline, not a synchronisation: when the test passes, the errors arrive on the next loop
        // iteration and the rescue is cancelled (and disarmed) long before it would run.
        let rescue = Task {
            try await Task.sleep(for: .seconds(30))
            socket.rescue()
        }
        let outcome: AcceptErrorOutcome = await withCheckedContinuation { continuation in
            loop.execute {
                let run = AcceptErrorRun(socket: socket, continuation: continuation)
                do {
                    let listener = try TCPListener.listen(on: loop, host: "127.0.0.1", port: 0) { connection in
                        run.outcome.connections += 1
                        connection.close()
                    }
                    run.listener = listener
                    listener.onAcceptError = { error in
                        run.outcome.errors.append(error)
                        run.outcome.alwaysOnLoop = run.outcome.alwaysOnLoop && loop.inEventLoop
                        run.outcome.alwaysOpen = run.outcome.alwaysOpen && run.listener?.isClosing == false
                        if run.outcome.errors.count == count { run.finish() }
                    }
                    // Fires once the loop is free again: after a rescue, or if no error ever woke it.
                    run.watchdog = try loop.scheduleTimer(after: .seconds(30)) {
                        run.watchdog = nil
                        run.finish("\(run.outcome.errors.count) of \(count) accept errors reported within 30 s")
                    }
                    guard let descriptor = listener.socketDescriptor else {
                        run.finish("the listener has no socket descriptor")
                        return
                    }
                    socket.arm(descriptor)
                    if shutdown(descriptor, Int32(SHUT_RD)) != 0 {
                        run.finish("shutdown(SHUT_RD) failed with errno \(errno)")
                    }
                } catch {
                    run.finish("setup failed: \(error)")
                }
            }
        }
        rescue.cancel()
        await loop.shutdownGracefully()
        #expect(loop.closeStatus == 0)
        return outcome
    }

    @Suite("TCPListener accept errors")
    struct TCPListenerAcceptErrorTests {
        @Test func failedAcceptIsReportedOnTheLoopWithTheKernelsError() async throws {
            let outcome = try await breakListenerAndCollect(errors: 1)
            #expect(outcome.failure == nil)
            #expect(outcome.errors.count == 1, "closing from the callback stops further reports")
            let error = try #require(outcome.errors.first)
            #expect(error.code == -EINVAL)
            #expect(error.name == "EINVAL")
            #expect(error.operation == "uv_listen")
            #expect(outcome.alwaysOnLoop)
            #expect(outcome.connections == 0)
        }

        @Test func listenerStaysOpenAndKeepsReportingAfterAFailedAccept() async throws {
            // The listener's contract is to go on after a failed accept, never to close itself: each
            // retry libuv makes on the broken socket must reach the callback with the listener open.
            let outcome = try await breakListenerAndCollect(errors: 3)
            #expect(outcome.failure == nil)
            #expect(outcome.errors.count == 3)
            #expect(outcome.errors.allSatisfy { $0.code == -EINVAL && $0.operation == "uv_listen" })
            #expect(outcome.alwaysOpen)
            #expect(outcome.alwaysOnLoop)
            #expect(outcome.connections == 0)
        }
    }
#endif
