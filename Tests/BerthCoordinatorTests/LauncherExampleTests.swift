import BerthCore
import BerthProtocol
import BerthTestSupport
import Foundation
import Testing

/// examples/launcher, the SDK example framework, against a real coordinator and a simulated agent.
@Suite struct LauncherExampleTests {
    @Test func launchesEveryCopyRetriesAFailureAndExits() async throws {
        let coordinator = try await TestCoordinator.start()
        let agent = try await SimulatedAgent.register(to: coordinator)
        let binary = TestHost.productsDirectory.appendingPathComponent("berth-example-launcher").path
        let child = try SpawnedCommand([binary, "--coordinator", "127.0.0.1:\(coordinator.port)", "--copies", "2", "--command", "true"])

        let first = try await agent.events.next("LAUNCH") { $0.type == .launch }
        let framework = try #require(first.launch?.frameworkID)
        #expect(first.launch?.tasks.map(\.taskID) == ["copy-0-try-1", "copy-1-try-1"])
        try await agent.update(framework, "copy-0-try-1", .finished)
        try await agent.update(framework, "copy-1-try-1", .failed, message: "Command exited with status 1")
        // The failed copy is launched again, on the next offer after the framework revives.
        _ = try await agent.events.next("LAUNCH of the retry") { $0.launch?.tasks.first?.taskID == "copy-1-try-2" }
        try await agent.update(framework, "copy-1-try-2", .finished)
        let acknowledged = try await agent.events.next("ACKNOWLEDGE of the retry") { $0.acknowledge?.taskID == "copy-1-try-2" }
        #expect(acknowledged.acknowledge?.frameworkID == framework)

        let result = try await child.finishOffPool()
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("copy-1-try-1: TASK_FAILED"))
        _ = try await agent.events.next("SHUTDOWN_FRAMEWORK") { $0.type == .shutdownFramework }
        try await coordinator.stop()
    }
}
