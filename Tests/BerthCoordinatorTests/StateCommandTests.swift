import BerthCoordinator
import BerthCore
import BerthProtocol
import BerthTestSupport
import Foundation
import Testing

/// `berth state`, `berth agent ls`, `berth framework ls` and `berth task ls`, the built binary
/// against a real coordinator.
@Suite(.serialized) struct StateCommandTests {
    /// `berth ARGS` to its end, waited for off the cooperative pool (finishOffPool).
    static func berth(_ arguments: [String], environment: [String: String] = [:]) async throws -> CommandResult {
        let command = environment.isEmpty ? [TestHost.berthBinary] : ["/usr/bin/env"] + environment.map { "\($0.key)=\($0.value)" } + [TestHost.berthBinary]
        return try await SpawnedCommand(command + arguments).finishOffPool()
    }

    /// A coordinator with one agent and one framework running task t1 (1 cpu, 128 MB).
    static func cluster() async throws -> (TestCoordinator, SimulatedAgent, TestFramework) {
        let coordinator = try await TestCoordinator.start()
        let agent = try await SimulatedAgent.register(to: coordinator, hostname: "node-a")
        let framework = try await TestFramework.subscribe(to: coordinator, name: "web", roles: ["eng"])
        let offer = try await framework.nextOffer()
        // A long filter keeps the rest of the agent from being offered again, so OFFERS reads 0.
        try await framework.calls.launch([try LaunchFlowTests.task("t1", on: offer)], on: [offer.id], refuseSeconds: 3600)
        _ = try await agent.events.next("LAUNCH") { $0.type == .launch }
        try await agent.update(framework.id, "t1", .running)
        _ = try await framework.nextUpdate("t1", .running)
        return (coordinator, agent, framework)
    }

    static func lines(_ text: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    }

    @Test func tablesShowAgentsFrameworksAndTasks() async throws {
        let (coordinator, agent, framework) = try await Self.cluster()
        let address = "127.0.0.1:\(coordinator.port)"

        let agents = try await Self.berth(["agent", "ls", "--coordinator", address])
        #expect(agents.status == 0, "\(agents)")
        let agentRows = Self.lines(agents.stdout)
        #expect(agentRows.first == ["ID", "HOSTNAME", "STATE", "CPUS", "MEM", "(MB)", "DISK", "(MB)", "TASKS", "ATTRIBUTES"])
        #expect(agentRows.dropFirst().first == [agent.id.value, "node-a", "active", "1/4", "128/4096", "0/0", "1", "rack=r1"])
        // Aligned: every line starts its HOSTNAME column at the same place.
        let starts = agents.stdout.split(separator: "\n").map { line in
            line.range(of: line.contains("HOSTNAME") ? "HOSTNAME" : "node-a").map { line.distance(from: line.startIndex, to: $0.lowerBound) }
        }
        #expect(Set(starts).count == 1, "\(agents.stdout)")

        let frameworks = try await Self.berth(["framework", "ls", "--coordinator", address])
        #expect(frameworks.status == 0, "\(frameworks)")
        #expect(Self.lines(frameworks.stdout).dropFirst().first == [framework.id.value, "web", "eng", "connected", "1", "0", "1", "128"])

        let tasks = try await Self.berth(["task", "ls", "--coordinator", address])
        #expect(tasks.status == 0, "\(tasks)")
        #expect(Self.lines(tasks.stdout).first == ["ID", "NAME", "FRAMEWORK", "HOSTNAME", "STATE", "ROLE", "CPUS", "MEM", "(MB)"])
        #expect(Self.lines(tasks.stdout).dropFirst().first == ["t1", "sleeper", framework.id.value, "node-a", "TASK_RUNNING", "eng", "1", "128"])

        // Finished tasks show with --all only.
        try await agent.update(framework.id, "t1", .finished)
        _ = try await framework.nextUpdate("t1", .finished)
        #expect(Self.lines(try await Self.berth(["task", "ls", "--coordinator", address]).stdout).count == 1)
        let all = try await Self.berth(["task", "ls", "--all", "--coordinator", address])
        #expect(Self.lines(all.stdout).dropFirst().first?.contains("TASK_FINISHED") == true, "\(all)")

        let state = try await Self.berth(["state", "--coordinator", address])
        #expect(state.status == 0, "\(state)")
        #expect(state.stdout.contains("agents       1 active, 0 unreachable"), "\(state.stdout)")
        #expect(state.stdout.contains("tasks        0 live, 1 completed"), "\(state.stdout)")
        #expect(state.stdout.contains("cpus         0 used of 4"), "\(state.stdout)")
        try await coordinator.stop()
    }

    @Test func jsonAndTheEnvironmentVariable() async throws {
        let (coordinator, agent, framework) = try await Self.cluster()
        let environment = ["BERTH_COORDINATOR": "127.0.0.1:\(coordinator.port)"]

        let agents = try await Self.berth(["agent", "ls", "--json"], environment: environment)
        #expect(agents.status == 0, "\(agents)")
        let decodedAgents = try JSONDecoder().decode([StateDocument.AgentState].self, from: Data(agents.stdout.utf8))
        #expect(decodedAgents.map(\.id) == [agent.id.value])

        let frameworks = try await Self.berth(["framework", "ls", "--json"], environment: environment)
        let decodedFrameworks = try JSONDecoder().decode([StateDocument.FrameworkState].self, from: Data(frameworks.stdout.utf8))
        #expect(decodedFrameworks.map(\.id) == [framework.id.value])

        let tasks = try await Self.berth(["task", "ls", "--json"], environment: environment)
        let decodedTasks = try JSONDecoder().decode([StateDocument.TaskState].self, from: Data(tasks.stdout.utf8))
        #expect(decodedTasks.map(\.state) == ["TASK_RUNNING"])

        let state = try await Self.berth(["state", "--json"], environment: environment)
        let document = try JSONDecoder().decode(StateDocument.self, from: Data(state.stdout.utf8))
        #expect(document.slaves.map(\.hostname) == ["node-a"])
        // --coordinator wins over the environment.
        let refused = try await Self.berth(["state", "--coordinator", "127.0.0.1:1"], environment: environment)
        #expect(refused.status == 1)
        try await coordinator.stop()
    }

    @Test(arguments: [["state"], ["agent", "ls"], ["framework", "ls", "--json"], ["task", "ls"]])
    func anUnreachableCoordinatorIsOneLineAndStatus1(command: [String]) async throws {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let result = try await Self.berth(command + ["--coordinator", "127.0.0.1:1"])
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(lines.first?.hasPrefix("berth: cannot reach the coordinator at http://127.0.0.1:1: connection refused;") == true, "\(result.stderr)")
    }
}
