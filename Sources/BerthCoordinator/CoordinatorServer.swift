import BerthCore
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// A coordinator with its HTTP API and its loops, ready to run as one ServiceGroup. Building it
/// starts nothing; `run` (or the group from `serviceGroup`) does.
public struct CoordinatorServer: Sendable {
    public let coordinator: Coordinator
    public let configuration: CoordinatorConfiguration
    /// The port once the server listens (useful with port 0).
    public let listeningPorts: AsyncStream<Int>
    let services: [any Service]
    let logger: Logger

    /// Throws when the state database under `configuration.home` cannot be opened or read.
    public init(configuration: CoordinatorConfiguration, logger: Logger) throws {
        let coordinator = try Coordinator(configuration: configuration, logger: logger)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        let server = CoordinatorHTTPServer(
            router: Self.router(coordinator: coordinator, configuration: configuration, logger: logger),
            host: configuration.host, port: configuration.port, backlog: configuration.listenBacklog,
            additionalHandlers: {
                [FlushCoalescingHandler(), AgentCallHandler(coordinator: coordinator, bodyLimit: configuration.maximumBodySize, logger: logger)]
            },
            onServerRunning: { channel in
                await coordinator.listening(host: configuration.host, port: channel.localAddress?.port ?? configuration.port)
                portContinuation.yield(channel.localAddress?.port ?? configuration.port)
                portContinuation.finish()
            },
            onStopped: { portContinuation.finish() },
            logger: logger)
        self.coordinator = coordinator
        self.configuration = configuration
        self.listeningPorts = ports
        self.logger = logger
        // Order matters at shutdown: the group stops services in reverse, so streams close first
        // and the HTTP server, listed first, stops last with no response left open.
        self.services = [
            server,
            AllocationService(coordinator: coordinator, interval: configuration.allocationInterval),
            PeriodicService(interval: configuration.frameworkHeartbeatInterval) { await coordinator.sendHeartbeats() },
            PeriodicService(interval: configuration.healthCheckInterval) { await coordinator.runHealthChecks() },
            StreamCloser(coordinator: coordinator),
        ]
    }

    /// The routes alone, for tests without sockets (`Application(router:).test(.router)`).
    public static func router(coordinator: Coordinator, configuration: CoordinatorConfiguration, logger: Logger) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: BerthErrorMiddleware(logger: logger))
        SchedulerRoutes.add(to: router, coordinator: coordinator, bodyLimit: configuration.maximumBodySize)
        AgentRoutes.add(to: router, coordinator: coordinator, bodyLimit: configuration.maximumBodySize)
        OperatorRoutes.add(to: router, coordinator: coordinator)
        TaskRoutes.add(to: router, coordinator: coordinator)
        RoleRoutes.add(to: router, coordinator: coordinator, bodyLimit: configuration.maximumBodySize)
        MetricsRoutes.add(to: router, coordinator: coordinator)
        return router
    }

    /// All services in one group; `signals` trigger a graceful shutdown (SIGTERM for the daemon).
    public func serviceGroup(signals: [UnixSignal] = []) -> ServiceGroup {
        ServiceGroup(configuration: ServiceGroupConfiguration(services: services.map { .init(service: $0) },
                                                              gracefulShutdownSignals: signals, logger: logger))
    }

    /// Runs every service in a task of its own and returns once the server listens: for tests
    /// and benchmarks that drive a coordinator in-process.
    public func start() async throws -> Running {
        let group = serviceGroup()
        let task = Task { try await group.run() }
        var ports = listeningPorts.makeAsyncIterator()
        guard let port = await ports.next(), port > 0 else {
            // The server's own error (a failed bind) says what to do.
            try await task.value
            throw BerthError(.invalidState, "the coordinator did not start listening on \(configuration.host):\(configuration.port)")
        }
        return Running(server: self, group: group, task: task, port: port)
    }

    /// A started coordinator.
    public struct Running: Sendable {
        public let server: CoordinatorServer
        let group: ServiceGroup
        let task: Task<Void, any Error>
        public let port: Int

        public var url: String { "http://127.0.0.1:\(port)" }

        /// Graceful shutdown, as SIGTERM does; returns once every service has stopped.
        public func stop() async throws {
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }
}
