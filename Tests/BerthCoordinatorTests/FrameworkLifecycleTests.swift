import BerthCoordinator
import BerthCore
import BerthFramework
import BerthProtocol
import Testing

@Suite(.serialized) struct FrameworkLifecycleTests {
    /// A task running on a simulated agent, for the tests below.
    static func runningTask(_ coordinator: TestCoordinator, capabilities: [String] = [], failoverTimeout: Double? = nil)
        async throws -> (SimulatedAgent, TestFramework) {
        let agent = try await SimulatedAgent.register(to: coordinator)
        let framework = try await TestFramework.subscribe(to: coordinator, capabilities: capabilities, failoverTimeout: failoverTimeout)
        let offer = try await framework.nextOffer()
        try await framework.calls.launch([TaskInfo(name: "t", taskID: "t1", agentID: agent.id, resources: try Resources.parse("cpus:1;mem:128"),
                                                   command: CommandInfo(value: "sleep 100"))], on: [offer.id])
        _ = try await agent.events.next("LAUNCH") { $0.type == .launch }
        try await agent.update(framework.id, "t1", .running)
        _ = try await framework.nextUpdate("t1", .running)
        return (agent, framework)
    }

    @Test func resubscribingWithTheSameIDResumesAndRetiresTheOldStream() async throws {
        let coordinator = try await TestCoordinator.start()
        let (agent, framework) = try await Self.runningTask(coordinator, failoverTimeout: 60)
        let client = SchedulerClient(coordinator: coordinator.url)
        let stream = try await client.subscribe(FrameworkInfo(user: "root", name: "test", id: framework.id, failoverTimeout: 60, roles: ["*"]))
        let events = EventLog<Event>.collecting(stream.events)
        let subscribed = try await events.next("SUBSCRIBED") { $0.type == .subscribed }
        #expect(subscribed.subscribed?.frameworkID == framework.id)
        try await framework.events.waitUntilEnded()
        await #expect(throws: BerthError.self) { try await framework.calls.revive() }

        // The task is still the framework's: updates reach the new stream.
        let resumed = client.calls(for: framework.id, streamID: stream.streamID)
        try await agent.update(framework.id, "t1", .finished)
        _ = try await events.next("UPDATE TASK_FINISHED") { $0.update?.status.state == .finished }
        try await resumed.teardown()
        try await coordinator.stop()
    }

    @Test func teardownShutsTheFrameworkDownOnItsAgents() async throws {
        let coordinator = try await TestCoordinator.start()
        let (agent, framework) = try await Self.runningTask(coordinator)
        try await framework.calls.teardown()
        let shutdown = try await agent.events.next("SHUTDOWN_FRAMEWORK") { $0.type == .shutdownFramework }
        #expect(shutdown.shutdownFramework?.frameworkID == framework.id)
        try await framework.events.waitUntilEnded()
        let state = await coordinator.coordinator.state()
        #expect(state.frameworks.isEmpty)
        // Still shown among the completed frameworks, so clients find where its tasks ran.
        #expect(state.completedFrameworks.map(\.id) == [framework.id.value])
        #expect((state.completedFrameworks.first.map { $0.tasks + $0.completedTasks } ?? []).map(\.id) == ["t1"])
        // Its resources are free again: a new framework is offered the whole agent.
        let next = try await TestFramework.subscribe(to: coordinator, name: "next")
        #expect(try await next.nextOffer().resources.scalar(named: "cpus") == 4)
        try await coordinator.stop()
    }

    @Test func failoverTimeoutRemovesADisconnectedFramework() async throws {
        let coordinator = try await TestCoordinator.start()
        let (agent, framework) = try await Self.runningTask(coordinator, failoverTimeout: 1)
        await coordinator.coordinator.subscriptionEnded(framework: framework.id, streamID: framework.calls.streamID)
        let disconnected = await coordinator.coordinator.state().frameworks.first
        #expect(disconnected?.connected == false)
        #expect(disconnected?.tasks.map(\.id) == ["t1"], "tasks are kept within the failover timeout")
        let shutdown = try await agent.events.next("SHUTDOWN_FRAMEWORK", timeout: .seconds(5)) { $0.type == .shutdownFramework }
        #expect(shutdown.shutdownFramework?.frameworkID == framework.id)
        #expect(await coordinator.coordinator.state().frameworks.isEmpty)
        try await coordinator.stop()
    }

    @Test func reconcileImplicitAndExplicit() async throws {
        let coordinator = try await TestCoordinator.start()
        let (_, framework) = try await Self.runningTask(coordinator, capabilities: ["PARTITION_AWARE"])
        try await framework.calls.reconcile()
        let implicit = try await framework.events.next("reconciliation of t1") { $0.update?.status.reason == .reconciliation }
        #expect(implicit.update?.status.state == .running)
        #expect(implicit.update?.status.uuid == nil, "reconciliation updates need no acknowledgement")
        try await framework.calls.reconcile([.init(taskID: "t1"), .init(taskID: "ghost")])
        _ = try await framework.nextUpdate("t1", .running)
        let ghost = try await framework.nextUpdate("ghost", .unknown)
        #expect(ghost.reason == .reconciliation)
        try await coordinator.stop()
    }
}

@Suite struct HeartbeatTests {
    @Test func heartbeatEventsAtTheConfiguredInterval() async throws {
        let coordinator = try await TestCoordinator.start(TestCoordinator.configuration { $0.frameworkHeartbeatInterval = .milliseconds(200) })
        let framework = try await TestFramework.subscribe(to: coordinator)
        let subscribed = await framework.events.events.first?.subscribed
        #expect(subscribed?.heartbeatIntervalSeconds == 0.2)
        _ = try await framework.events.next("HEARTBEAT", timeout: .seconds(3)) { $0.type == .heartbeat }
        _ = try await framework.events.next("second HEARTBEAT", timeout: .seconds(3)) { $0.type == .heartbeat }
        try await coordinator.stop()
    }
}
