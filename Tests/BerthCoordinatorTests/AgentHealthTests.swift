import BerthCoordinator
import BerthCore
import BerthProtocol
import Logging
import Testing

@Suite(.serialized) struct AgentHealthTests {
    /// Missing heartbeats for ping timeout × max timeouts: tasks become TASK_LOST, or
    /// TASK_UNREACHABLE for a partition-aware framework, and outstanding offers are rescinded.
    @Test(arguments: [([String](), TaskState.lost), (["PARTITION_AWARE"], .unreachable)])
    func silentAgentBecomesUnreachable(capabilities: [String], expected: TaskState) async throws {
        // 3 s of silence makes the agent unreachable: short for the test, long enough that a
        // loaded machine delaying the 50 ms heartbeats does not trip it early (1.5 s did once,
        // with the whole suite and a build sharing two cores).
        let coordinator = try await TestCoordinator.start(TestCoordinator.configuration {
            $0.agentPingTimeout = .milliseconds(500)
            $0.maxAgentPingTimeouts = 6
        })
        let agent = try await SimulatedAgent.register(to: coordinator, resources: "cpus:2;mem:1024")
        // Alive while the task starts, however slow the machine; silent from the point the test chooses.
        let heartbeats = try agent.heartbeating(every: .milliseconds(50))
        defer { heartbeats.task.cancel() }
        let framework = try await TestFramework.subscribe(to: coordinator, capabilities: capabilities)
        let offer = try await framework.nextOffer()
        try await framework.calls.launch([TaskInfo(name: "t", taskID: "t1", agentID: agent.id, resources: try Resources.parse("cpus:1;mem:128"),
                                                   command: CommandInfo(value: "sleep 100"))], on: [offer.id], refuseSeconds: 0)
        _ = try await agent.events.next("LAUNCH") { $0.type == .launch }
        try await agent.update(framework.id, "t1", .running)
        _ = try await framework.nextUpdate("t1", .running)
        // The rest of the agent is offered again; then the agent goes silent.
        let rest = try await framework.nextOffer()
        #expect(rest.resources.scalar(named: "cpus") == 1)
        try await heartbeats.stop()

        let status = try await framework.nextUpdate("t1", expected, timeout: .seconds(10))
        #expect(status.reason == .agentRemoved)
        #expect(status.message?.contains("missed heartbeats") == true)
        let rescind = try await framework.events.next("RESCIND") { $0.type == .rescind }
        #expect(rescind.rescind?.offerID == rest.id)
        let state = await coordinator.coordinator.state()
        #expect(state.unreachableSlaves == 1)
        // An unreachable agent's calls are refused until it registers again.
        #expect(try await agent.send(AgentCall(type: .heartbeat, agentID: agent.id)) == 403)

        // Back, still running the task: a partition-aware framework hears TASK_RUNNING again;
        // one that was told TASK_LOST has the task killed instead (Mesos 1.1+).
        let known = await coordinator.coordinator.state().frameworks.first
        let everyTask: [StateDocument.TaskState] = (known?.tasks ?? []) + (known?.completedTasks ?? [])
        let task = try #require(everyTask.first)
        let launched = TaskInfo(name: "t", taskID: "t1", agentID: agent.id, resources: try Resources.parse("cpus:1;mem:128"), command: CommandInfo(value: "sleep 100"))
        let back = try await SimulatedAgent.register(to: coordinator, resources: "cpus:2;mem:1024", returningAs: agent.id, running: [
            AgentCall.RunningTask(frameworkID: framework.id, task: launched, status: TaskStatus(taskID: "t1", state: .running, source: .executor)),
        ])
        #expect(task.state == expected.rawValue)
        if expected == .unreachable {
            let running = try await framework.events.next("UPDATE TASK_RUNNING after re-registration") {
                $0.update?.status.state == .running && $0.update?.status.reason == .agentReregistered
            }
            #expect(running.update?.status.uuid == nil)
        } else {
            let kill = try await back.events.next("KILL") { $0.type == .kill }
            #expect(kill.kill?.taskID == "t1")
        }
        #expect(await coordinator.coordinator.state().unreachableSlaves == 0)
        try await coordinator.stop()
    }

    /// A coordinator that did not run for a while (here: its checks not called) does not count
    /// that time as the agents' silence; silence after it still counts.
    @Test func theCoordinatorsOwnPauseIsNotAgentsSilence() async throws {
        var configuration = CoordinatorConfiguration()
        configuration.agentPingTimeout = .milliseconds(200)
        configuration.maxAgentPingTimeouts = 2
        let coordinator = try Coordinator(configuration: configuration, logger: Logger(label: "agent-health-test"))
        _ = try await coordinator.register(.init(hostname: "a", resources: try Resources.parse("cpus:1;mem:128"), attributes: [], tasks: []),
                                                     agentID: nil)
        await coordinator.runHealthChecks()
        try await Task.sleep(for: .seconds(1))
        await coordinator.runHealthChecks()
        #expect(await coordinator.state().activatedSlaves == 1, "a 1 s pause of the coordinator made the agent unreachable")

        // Checked on time from here, without heartbeats: unreachable once 0.4 s have passed.
        for _ in 0..<8 {
            try await Task.sleep(for: .milliseconds(100))
            await coordinator.runHealthChecks()
        }
        #expect(await coordinator.state().unreachableSlaves == 1)
    }

    @Test func heartbeatsKeepAnAgentReachable() async throws {
        let coordinator = try await TestCoordinator.start(TestCoordinator.configuration {
            $0.agentPingTimeout = .milliseconds(300)
            $0.maxAgentPingTimeouts = 2
        })
        let agent = try await SimulatedAgent.register(to: coordinator)
        // 1.5 s of heartbeats, well past the 0.6 s an agent may stay silent.
        for _ in 0..<15 {
            try await agent.heartbeat()
            try await Task.sleep(for: .milliseconds(100))
        }
        let state = await coordinator.coordinator.state()
        #expect(state.activatedSlaves == 1)
        try await coordinator.stop()
    }
}
