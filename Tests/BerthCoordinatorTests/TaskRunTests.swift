import AsyncHTTPClient
import BerthCore
import BerthFramework
import BerthProtocol
import BerthTestSupport
import Foundation
import NIOCore
import Testing

/// `berth task run` and `berth task kill` (and the SDK's TaskRunner under them) against a real
/// coordinator, with a simulated agent playing the task's life.
@Suite(.serialized) struct TaskRunTests {

    static func taskRun(_ coordinator: TestCoordinator, _ arguments: [String]) throws -> SpawnedCommand {
        try SpawnedCommand([TestHost.berthBinary, "task", "run", "--coordinator", "127.0.0.1:\(coordinator.port)"] + arguments)
    }

    @Test func theRunnerLaunchesAcknowledgesAndReportsTheExitStatus() async throws {
        let coordinator = try await TestCoordinator.start()
        let agent = try await SimulatedAgent.register(to: coordinator)
        let request = TaskRequest(name: "probe", taskID: "probe-1", command: CommandInfo(value: "exit 3", shell: true),
                                  image: "busybox:latest", cpus: 0.5, memory: 64)
        let (stops, _) = AsyncStream.makeStream(of: Void.self)
        let run = Task {
            try await TaskRunner(client: SchedulerClient(coordinator: coordinator.url)).run(request, offerWait: .seconds(10), stop: stops) { _ in }
        }
        let launch = try await agent.events.next("LAUNCH") { $0.type == .launch }
        let task = try #require(launch.launch?.tasks.first)
        #expect(task.resources.scalar(named: "cpus").description == "0.5")
        #expect(task.resources.scalar(named: "mem").description == "64")
        #expect(task.container == .object(["type": .string("MESOS"),
                                           "mesos": .object(["image": .object(["type": .string("DOCKER"), "docker": .object(["name": .string("busybox:latest")])])])]))
        let frameworkID = try #require(launch.launch?.frameworkID)
        let running = try await agent.update(frameworkID, "probe-1", .running)
        let ack = try await agent.events.next("ACKNOWLEDGE of TASK_RUNNING") { $0.type == .acknowledge }
        #expect(ack.acknowledge?.uuid == running)
        try await agent.update(frameworkID, "probe-1", .failed, message: "Command exited with status 3")
        let outcome = try await run.value
        #expect(outcome.exitCode == 3)
        #expect(outcome.status.state == .failed)
        // The throwaway framework is gone once the task has ended.
        _ = try await agent.events.next("SHUTDOWN_FRAMEWORK") { $0.type == .shutdownFramework }
        try await coordinator.stop()
    }

    @Test func theCommandExitsWithTheTasksStatusAndShowsItsStates() async throws {
        let coordinator = try await TestCoordinator.start()
        let agent = try await SimulatedAgent.register(to: coordinator)
        let child = try Self.taskRun(coordinator, ["--name", "job", "--env", "A=1", "--", "sh", "-c", "exit 7"])
        let launch = try await agent.events.next("LAUNCH") { $0.type == .launch }
        let task = try #require(launch.launch?.tasks.first)
        #expect(task.command?.arguments == ["sh", "-c", "exit 7"])
        #expect(task.command?.shell == false)
        #expect(task.command?.environment?.variables.map(\.name) == ["A"])
        let frameworkID = try #require(launch.launch?.frameworkID)
        try await agent.update(frameworkID, task.taskID, .running)
        try await agent.update(frameworkID, task.taskID, .failed, message: "Command exited with status 7")
        let result = try await child.finishOffPool()
        #expect(result.status == 7, "\(result)")
        #expect(result.stderr.contains("TASK_RUNNING"))
        #expect(result.stderr.contains("TASK_FAILED: Command exited with status 7"))
        try await coordinator.stop()
    }

    @Test func noOfferThatFitsSaysWhyAndExits125() async throws {
        let coordinator = try await TestCoordinator.start()
        _ = try await SimulatedAgent.register(to: coordinator, resources: "cpus:2;mem:1024")
        let child = try Self.taskRun(coordinator, ["--cpus", "64", "--offer-wait", "1s", "--", "true"])
        let result = try await child.finishOffPool()
        #expect(result.status == 125, "\(result)")
        #expect(result.stderr.contains("no offer with"), "\(result)")
        try await coordinator.stop()
    }

    @Test func ctrlCKillsTheTaskAndWaitsForItsEnd() async throws {
        let coordinator = try await TestCoordinator.start()
        let agent = try await SimulatedAgent.register(to: coordinator)
        let child = try Self.taskRun(coordinator, ["--", "sleep 100"])
        let launch = try await agent.events.next("LAUNCH") { $0.type == .launch }
        let task = try #require(launch.launch?.tasks.first)
        let frameworkID = try #require(launch.launch?.frameworkID)
        try await agent.update(frameworkID, task.taskID, .running)
        _ = try await agent.events.next("ACKNOWLEDGE") { $0.type == .acknowledge }
        kill(child.pid, SIGINT)
        let killed = try await agent.events.next("KILL") { $0.type == .kill }
        #expect(killed.kill?.taskID == task.taskID)
        try await agent.update(frameworkID, task.taskID, .killed, message: "Command terminated with signal 15")
        let result = try await child.finishOffPool()
        #expect(result.status == 128 + 15, "\(result)")
        try await coordinator.stop()
    }

    @Test func taskKillReachesTheAgentWhicheverFrameworkRunsIt() async throws {
        let coordinator = try await TestCoordinator.start()
        let (agent, framework) = try await FrameworkLifecycleTests.runningTask(coordinator)
        let address = "127.0.0.1:\(coordinator.port)"
        let result = try await SpawnedCommand([TestHost.berthBinary, "task", "kill", "--coordinator", address, "t1"]).finishOffPool()
        #expect(result.status == 0, "\(result)")
        let kill = try await agent.events.next("KILL") { $0.type == .kill }
        #expect(kill.kill?.taskID == "t1")
        #expect(kill.kill?.frameworkID == framework.id)
        let unknown = try await SpawnedCommand([TestHost.berthBinary, "task", "kill", "--coordinator", address, "nope"]).finishOffPool()
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no live task nope"), "\(unknown)")
        try await coordinator.stop()
    }
}
