import Logging
import ServiceLifecycle

/// Runs an allocation cycle every allocation interval, and promptly when the coordinator asks
/// for one (resources freed, a framework subscribed or revived).
struct AllocationService: Service {
    let coordinator: Coordinator
    let interval: Duration

    func run() async throws {
        // Shutdown cancels the loops; the CancellationError that ends them is the normal way out.
        try? await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Prompt cycles may take at most a fifth of the coordinator's time: on a big
                    // cluster a burst of changes (agents re-registering) is served in batches.
                    for await _ in coordinator.allocationWakeups {
                        let started = ContinuousClock.now
                        await coordinator.allocate()
                        try await Task.sleep(for: (ContinuousClock.now - started) * 4)
                    }
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: interval)
                        await coordinator.allocate()
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }
}

/// Does `action` every `interval` until graceful shutdown.
struct PeriodicService: Service {
    let interval: Duration
    let action: @Sendable () async -> Void

    func run() async throws {
        // As above: cancellation at shutdown is how the loop ends.
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                await action()
            }
        }
    }
}

/// At graceful shutdown, ends every open event stream so their HTTP responses complete and the
/// server can stop; it is listed last in the group so it is told first.
struct StreamCloser: Service {
    let coordinator: Coordinator

    func run() async throws {
        try? await gracefulShutdown()
        await coordinator.closeStreams()
    }
}
