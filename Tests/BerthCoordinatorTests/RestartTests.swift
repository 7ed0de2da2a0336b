import BerthCoordinator
import BerthCore
import BerthFramework
import BerthProtocol
import Foundation
import Testing

/// A coordinator restarted on the same home: frameworks, agents and tasks come back from SQLite,
/// failover deadlines keep running across the restart, agents re-register and are reconciled.
@Suite(.serialized) struct RestartTests {
    static func home() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("berth-coordinator-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func start(home: String) async throws -> TestCoordinator {
        try await TestCoordinator.start(TestCoordinator.configuration { $0.home = home })
    }

    static let task = TaskInfo(name: "t", taskID: "t1", agentID: "unset", resources: (try? Resources.parse("cpus:1;mem:128")) ?? Resources(),
                               command: CommandInfo(value: "sleep 100"))

    /// A framework with one running task on one agent.
    static func runningTask(_ coordinator: TestCoordinator, failoverTimeout: Double, capabilities: [String] = [])
        async throws -> (SimulatedAgent, TestFramework, TaskInfo) {
        let agent = try await SimulatedAgent.register(to: coordinator)
        let framework = try await TestFramework.subscribe(to: coordinator, capabilities: capabilities, failoverTimeout: failoverTimeout)
        let offer = try await framework.nextOffer()
        var task = Self.task
        task.agentID = agent.id
        try await framework.calls.launch([task], on: [offer.id])
        _ = try await agent.events.next("LAUNCH") { $0.type == .launch }
        try await agent.update(framework.id, "t1", .running)
        _ = try await framework.nextUpdate("t1", .running)
        return (agent, framework, task)
    }

    static func running(_ task: TaskInfo, of framework: FrameworkID) -> AgentCall.RunningTask {
        AgentCall.RunningTask(frameworkID: framework, task: task, status: TaskStatus(taskID: task.taskID, state: .running, source: .executor))
    }

    @Test func frameworksAgentsAndTasksSurviveARestart() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let first = try await Self.start(home: home)
        let (agent, framework, task) = try await Self.runningTask(first, failoverTimeout: 60)
        try await first.stop()

        let second = try await Self.start(home: home)
        let state = await second.coordinator.state()
        let recovered = try #require(state.frameworks.first)
        #expect(recovered.id == framework.id.value)
        #expect(recovered.connected == false)
        #expect(recovered.tasks.map(\.state) == ["TASK_RUNNING"])
        #expect(state.slaves.map(\.id) == [agent.id.value])
        // Until it registers again the agent's calls are refused and its resources not offered.
        let stale = SimulatedAgent(coordinator: second.url, id: agent.id, streamID: agent.streamID, events: agent.events)
        #expect(try await stale.send(AgentCall(type: .heartbeat, agentID: agent.id)) == 403)
        let other = try await TestFramework.subscribe(to: second, name: "other")
        try await other.events.expectNone("OFFERS before the agent re-registered", for: .milliseconds(500)) { $0.type == .offers }

        let back = try await SimulatedAgent.register(to: second, returningAs: agent.id, running: [Self.running(task, of: framework.id)])
        // What the task holds stays allocated: the other framework is offered the rest.
        #expect(try await other.nextOffer().resources.scalar(named: "cpus") == 3)
        try await back.heartbeat()

        // The framework resumes under its ID; its task is still running.
        let client = SchedulerClient(coordinator: second.url)
        let stream = try await client.subscribe(FrameworkInfo(user: "root", name: "test", id: framework.id, failoverTimeout: 60, roles: ["*"]))
        let events = EventLog<Event>.collecting(stream.events)
        let subscribed = try await events.next("SUBSCRIBED") { $0.type == .subscribed }
        #expect(subscribed.subscribed?.frameworkID == framework.id)
        let calls = client.calls(for: framework.id, streamID: stream.streamID)
        try await calls.reconcile([Call.Reconcile.Task(taskID: task.taskID, agentID: agent.id)])
        let reconciled = try await events.next("UPDATE from RECONCILE") { $0.update?.status.taskID == task.taskID }
        #expect(reconciled.update?.status.state == .running)
        #expect(reconciled.update?.status.reason == .reconciliation)
        try await calls.teardown()
        try await second.stop()
    }

    /// Mesos restarts a disconnected framework's failover timeout when the master fails over
    /// (MESOS-4659); Berth keeps the deadline as wall-clock time, so the restart changes nothing.
    @Test func aFailoverDeadlineIsNotResetByARestart() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let timeout = 4.0
        let first = try await Self.start(home: home)
        let (agent, framework, task) = try await Self.runningTask(first, failoverTimeout: timeout)
        await first.coordinator.subscriptionEnded(framework: framework.id, streamID: framework.calls.streamID)
        let disconnected = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(2500))
        try await first.stop()

        let second = try await Self.start(home: home)
        let back = try await SimulatedAgent.register(to: second, returningAs: agent.id, running: [Self.running(task, of: framework.id)])
        let shutdown = try await back.events.next("SHUTDOWN_FRAMEWORK", timeout: .seconds(10)) { $0.type == .shutdownFramework }
        let elapsed = (ContinuousClock.now - disconnected) / .seconds(1)
        #expect(shutdown.shutdownFramework?.frameworkID == framework.id)
        // Checks run every second: the deadline is met within 4–5 s; a reset one would be 6.5 s or later.
        #expect(elapsed >= timeout - 0.1)
        #expect(elapsed < 6)
        #expect(await second.coordinator.state().frameworks.isEmpty)

        // Removed for good: neither its ID nor its task comes back after another restart.
        try await second.stop()
        let third = try await Self.start(home: home)
        #expect(await third.coordinator.state().frameworks.isEmpty)
        try await third.stop()
    }

    /// A task the registry placed on an agent that re-registers without it is not running.
    @Test(arguments: [([String](), TaskState.lost), (["PARTITION_AWARE"], .gone)])
    func aTaskTheAgentNoLongerHasIsReported(capabilities: [String], expected: TaskState) async throws {
        let coordinator = try await TestCoordinator.start()
        let (agent, framework, _) = try await Self.runningTask(coordinator, failoverTimeout: 60, capabilities: capabilities)
        _ = try await SimulatedAgent.register(to: coordinator, returningAs: agent.id)
        let status = try await framework.nextUpdate("t1", expected)
        #expect(status.reason == .agentReregistered)
        #expect(status.message?.contains("re-registered without task t1") == true)
        try await coordinator.stop()
    }

    /// A kill asked for while the task's agent is not connected reaches it when it registers again.
    @Test func aKillForADisconnectedAgentWaitsForItToComeBack() async throws {
        let coordinator = try await TestCoordinator.start()
        let (agent, framework, task) = try await Self.runningTask(coordinator, failoverTimeout: 60)
        await coordinator.coordinator.agentStreamEnded(agent: agent.id, streamID: agent.streamID)
        try await framework.calls.kill(task.taskID)
        try await agent.events.expectNone("KILL on the closed stream", for: .milliseconds(200)) { $0.type == .kill }
        let back = try await SimulatedAgent.register(to: coordinator, returningAs: agent.id, running: [Self.running(task, of: framework.id)])
        let kill = try await back.events.next("KILL after re-registration") { $0.type == .kill }
        #expect(kill.kill?.taskID == task.taskID)
        try await coordinator.stop()
    }

    /// An agent still running tasks of a framework the coordinator removed is told to shut them down.
    @Test func tasksOfARemovedFrameworkAreShutDown() async throws {
        let coordinator = try await TestCoordinator.start()
        let (agent, framework, task) = try await Self.runningTask(coordinator, failoverTimeout: 60)
        try await framework.calls.teardown()
        _ = try await agent.events.next("SHUTDOWN_FRAMEWORK") { $0.type == .shutdownFramework }
        let back = try await SimulatedAgent.register(to: coordinator, returningAs: agent.id, running: [Self.running(task, of: framework.id)])
        let shutdown = try await back.events.next("SHUTDOWN_FRAMEWORK after re-registration") { $0.type == .shutdownFramework }
        #expect(shutdown.shutdownFramework?.frameworkID == framework.id)
        // A removed framework cannot come back under its ID.
        let client = SchedulerClient(coordinator: coordinator.url)
        await #expect(throws: (any Error).self) {
            _ = try await client.subscribe(FrameworkInfo(user: "root", name: "test", id: framework.id, roles: ["*"]))
        }
        try await coordinator.stop()
    }

    /// Finished tasks are kept up to a bound per framework, newest first, in memory and on disk.
    @Test func oldCompletedTasksAreForgotten() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let configuration = TestCoordinator.configuration {
            $0.home = home
            $0.maxCompletedTasksPerFramework = 10
        }
        let coordinator = try await TestCoordinator.start(configuration)
        let agent = try await SimulatedAgent.register(to: coordinator)
        let framework = try await TestFramework.subscribe(to: coordinator, failoverTimeout: 60)
        let offer = try await framework.nextOffer()
        let launched = try (1...15).map { number in
            TaskInfo(name: "t", taskID: TaskID("t\(number)"), agentID: agent.id, resources: try Resources.parse("cpus:0.1;mem:16"), command: CommandInfo(value: "true"))
        }
        try await framework.calls.launch(launched, on: [offer.id])
        _ = try await agent.events.next("LAUNCH") { $0.type == .launch }
        for task in launched {
            try await agent.update(framework.id, task.taskID, .finished)
            _ = try await framework.nextUpdate(task.taskID, .finished)
        }
        func completed(_ coordinator: TestCoordinator) async -> [String] {
            await coordinator.coordinator.state().frameworks.first?.completedTasks.map(\.id).sorted { $0.count == $1.count ? $0 < $1 : $0.count < $1.count } ?? []
        }
        // Pruned after every tenth of the bound: at most 10 + 1 kept, always the newest.
        let newest = (6...15).map { "t\($0)" }
        let kept = await completed(coordinator)
        #expect(kept.count <= 11)
        #expect(Array(kept.suffix(10)) == newest)
        try await coordinator.stop()
        let restarted = try await TestCoordinator.start(configuration)
        #expect(await completed(restarted) == kept)
        try await restarted.stop()
    }

    @Test func aDamagedDatabaseIsAClearErrorAtStart() async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(atPath: home) }
        try FileManager.default.createDirectory(atPath: home + "/coordinator", withIntermediateDirectories: true)
        try Data(repeating: 0x5a, count: 8192).write(to: URL(fileURLWithPath: home + "/coordinator/coordinator.sqlite"))
        let error = #expect(throws: BerthError.self) {
            _ = try CoordinatorServer(configuration: TestCoordinator.configuration { $0.home = home }, logger: .init(label: "test"))
        }
        #expect(error?.message.contains("coordinator.sqlite") == true)
    }
}
