import AsyncHTTPClient
import BerthCoordinator
import BerthCore
import BerthProtocol
import Foundation
import Testing

/// A framework and a simulated agent against a real coordinator over loopback HTTP.
@Suite(.serialized) struct LaunchFlowTests {
    static func task(_ id: TaskID, on offer: OfferInfo, resources: String = "cpus:1;mem:128") throws -> TaskInfo {
        TaskInfo(name: "sleeper", taskID: id, agentID: offer.agentID, resources: try Resources.parse(resources),
                 command: CommandInfo(value: "sleep 1", shell: true))
    }

    @Test func subscribeOfferLaunchUpdateAcknowledge() async throws {
        let coordinator = try await TestCoordinator.start()
        let agent = try await SimulatedAgent.register(to: coordinator)
        let framework = try await TestFramework.subscribe(to: coordinator)

        let offer = try await framework.nextOffer()
        #expect(offer.agentID == agent.id)
        #expect(offer.hostname == "agent1")
        #expect(offer.resources == (try Resources.parse("cpus:4;mem:4096;ports:[31000-32000]")))
        #expect(offer.attributes == [Attribute(name: "rack", value: "r1")])
        #expect(offer.allocationInfo?.role == "*")

        try await framework.calls.launch([try Self.task("t1", on: offer)], on: [offer.id])
        let launch = try await agent.events.next("LAUNCH") { $0.type == .launch }
        #expect(launch.launch?.frameworkID == framework.id)
        #expect(launch.launch?.tasks.map(\.taskID) == ["t1"])
        #expect(launch.launch?.tasks.first?.command?.value == "sleep 1")

        let runningUUID = try await agent.update(framework.id, "t1", .running)
        let finishedUUID = try await agent.update(framework.id, "t1", .finished, message: "exit 0")
        let running = try await framework.nextUpdate("t1", .running)
        let finished = try await framework.nextUpdate("t1", .finished)
        #expect(running.uuid == runningUUID)
        #expect(running.agentID == agent.id)
        #expect(finished.message == "exit 0")
        // In order: RUNNING came before FINISHED on the stream.
        let updates = await framework.events.events.compactMap { $0.update?.status.state }
        #expect(updates == [.running, .finished])

        try await framework.calls.acknowledge(running)
        try await framework.calls.acknowledge(finished)
        let first = try await agent.events.next("ACKNOWLEDGE") { $0.type == .acknowledge }
        let second = try await agent.events.next("ACKNOWLEDGE") { $0.type == .acknowledge }
        #expect(first.acknowledge?.uuid == runningUUID)
        #expect(second.acknowledge?.uuid == finishedUUID)
        #expect(second.acknowledge?.taskID == "t1")

        let state = await coordinator.coordinator.state()
        #expect(state.slaves.map(\.id) == [agent.id.value])
        #expect(state.frameworks.first?.completedTasks.map(\.state) == ["TASK_FINISHED"])
        try await coordinator.stop()
    }

    @Test func killIsForwardedToTheAgent() async throws {
        let coordinator = try await TestCoordinator.start()
        let agent = try await SimulatedAgent.register(to: coordinator)
        let framework = try await TestFramework.subscribe(to: coordinator)
        let offer = try await framework.nextOffer()
        try await framework.calls.launch([try Self.task("t1", on: offer)], on: [offer.id])
        _ = try await agent.events.next("LAUNCH") { $0.type == .launch }
        try await framework.calls.kill("t1", agent: agent.id)
        let kill = try await agent.events.next("KILL") { $0.type == .kill }
        #expect(kill.kill?.taskID == "t1")
        try await coordinator.stop()
    }

    /// The offer was used by an earlier ACCEPT: the second one's tasks are dropped, with a message.
    @Test(arguments: [(["PARTITION_AWARE"], TaskState.dropped), ([], .lost)])
    func staleOfferDropsTheTasks(capabilities: [String], expected: TaskState) async throws {
        let coordinator = try await TestCoordinator.start()
        let agent = try await SimulatedAgent.register(to: coordinator)
        let framework = try await TestFramework.subscribe(to: coordinator, capabilities: capabilities)
        let offer = try await framework.nextOffer()
        try await framework.calls.launch([try Self.task("t1", on: offer)], on: [offer.id])
        try await framework.calls.launch([try Self.task("t2", on: offer)], on: [offer.id])
        let dropped = try await framework.nextUpdate("t2", expected)
        #expect(dropped.reason == .invalidOffers)
        #expect(dropped.source == .master)
        #expect(dropped.message?.contains("offer \(offer.id) is not outstanding") == true, "\(dropped.message ?? "")")
        let launches = await agent.events.events.filter { $0.type == .launch }
        #expect(launches.flatMap { $0.launch?.tasks.map(\.taskID) ?? [] } == ["t1"])
        try await coordinator.stop()
    }

    /// Invalid TaskInfos get TASK_ERROR with a message saying what is wrong; valid ones in the same ACCEPT launch.
    @Test(arguments: [
        ("cpus:8;mem:128", "more than what is left of the offers"),
        ("", "has no resources"),
    ])
    func invalidTaskGetsTaskError(resources: String, message: String) async throws {
        let coordinator = try await TestCoordinator.start()
        let agent = try await SimulatedAgent.register(to: coordinator)
        let framework = try await TestFramework.subscribe(to: coordinator)
        let offer = try await framework.nextOffer()
        try await framework.calls.launch([try Self.task("bad", on: offer, resources: resources), try Self.task("good", on: offer)], on: [offer.id])
        let error = try await framework.nextUpdate("bad", .error)
        #expect(error.reason == .taskInvalid)
        #expect(error.message?.contains(message) == true, "\(error.message ?? "")")
        let launch = try await agent.events.next("LAUNCH") { $0.type == .launch }
        #expect(launch.launch?.tasks.map(\.taskID) == ["good"])
        try await coordinator.stop()
    }
}
