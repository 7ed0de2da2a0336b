import BerthCoordinator
import BerthCore
import Foundation
import Logging

/// A real coordinator on a free loopback port, running its whole ServiceGroup, for one test.
struct TestCoordinator {
    let running: CoordinatorServer.Running

    var port: Int { running.port }
    var url: String { running.url }
    var coordinator: Coordinator { running.server.coordinator }

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
        return TestCoordinator(running: try await CoordinatorServer(configuration: configuration, logger: logger).start())
    }

    /// Graceful shutdown, as SIGTERM does; returns once every service has stopped.
    func stop() async throws {
        try await running.stop()
    }
}

struct FixtureFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
