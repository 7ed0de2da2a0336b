import BerthCoordinator
import BerthCore
import Foundation
import Logging
import ServiceLifecycle

/// A real coordinator on a free loopback port, running its whole ServiceGroup, for one test.
struct TestCoordinator {
    let server: CoordinatorServer
    let group: ServiceGroup
    let running: Task<Void, any Error>
    let port: Int

    var url: String { "http://127.0.0.1:\(port)" }
    var coordinator: Coordinator { server.coordinator }

    /// Fast timings so tests do not wait on production defaults.
    static func configuration(_ adjust: (inout CoordinatorConfiguration) -> Void = { _ in }) -> CoordinatorConfiguration {
        var configuration = CoordinatorConfiguration()
        configuration.port = 0
        configuration.allocationInterval = .milliseconds(100)
        configuration.frameworkHeartbeatInterval = .seconds(15)
        adjust(&configuration)
        return configuration
    }

    static func start(_ configuration: CoordinatorConfiguration = configuration()) async throws -> TestCoordinator {
        var logger = Logger(label: "test-coordinator")
        logger.logLevel = ProcessInfo.processInfo.environment["BERTH_TEST_LOG"] != nil ? .debug : .critical
        let server = try CoordinatorServer(configuration: configuration, logger: logger)
        let group = server.serviceGroup()
        let running = Task { try await group.run() }
        var ports = server.listeningPorts.makeAsyncIterator()
        guard let port = await ports.next(), port > 0 else {
            running.cancel()
            throw FixtureFailure("the coordinator did not start listening")
        }
        return TestCoordinator(server: server, group: group, running: running, port: port)
    }

    /// Graceful shutdown, as SIGTERM does; returns once every service has stopped.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

struct FixtureFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
