import BerthCoordinator
import BerthCore
import BerthProtocol
import BerthTestSupport
import Foundation
import Testing

/// Three agents, each `berth agent` in a network namespace of its own (veth, own address), and a
/// coordinator on the host: cutting one agent's link makes its task unreachable after the ping
/// timeout; restoring the link lets the agent register again and the task is reported running.
@Suite(.serialized, .requiresRoot) struct PartitionTests {
    @Test func aCutAgentsTaskIsUnreachableAndComesBackWhenTheLinkIsRestored() async throws {
        var configuration = CoordinatorConfiguration()
        configuration.host = "0.0.0.0"
        configuration.port = 0
        configuration.allocationInterval = .milliseconds(100)
        configuration.agentPingTimeout = .seconds(1)
        configuration.maxAgentPingTimeouts = 3
        let coordinator = try await CoordinatorServer(configuration: configuration, logger: Cluster.logger).start()
        let network = try TestNetwork(hosts: 3)
        let rootfs = try Fixtures.busyboxRootfs()
        var agents: [SpawnedCommand] = []
        var homes: [String] = []
        let scheduler = try await TestScheduler.subscribe(to: coordinator.url, capabilities: ["PARTITION_AWARE", "TASK_KILLING_STATE"])
        var launched: [TaskID] = []
        do {
            for (index, host) in network.hosts.enumerated() {
                let home = try TestRegistry.makeTemporaryDirectory()
                homes.append(home)
                agents.append(try SpawnedCommand(network.command(in: host, [
                    TestHost.berthBinary, "agent", "--coordinator", "\(host.gateway):\(coordinator.port)", "--home", home,
                    "--hostname", "node\(index)", "--resources", "cpus:1;mem:256;ports:[31000-31009]", "--default-rootfs", rootfs,
                    "--listen", "127.0.0.1:0", "--log-level", "error",
                ])))
            }
            // One task per agent, each on the first offer from that agent.
            var tasks: [String: TaskID] = [:]
            let deadline = ContinuousClock.now + .seconds(30)
            while tasks.count < 3, ContinuousClock.now < deadline {
                let offer = try await scheduler.nextOffer(timeout: .seconds(30))
                guard tasks[offer.hostname] == nil else {
                    try await scheduler.calls.decline([offer.id], refuseSeconds: 0)
                    continue
                }
                let id = TaskID("on-\(offer.hostname)")
                tasks[offer.hostname] = id
                launched.append(id)
                try await scheduler.calls.launch([TaskInfo(name: id.value, taskID: id, agentID: offer.agentID, resources: try Resources.parse("cpus:0.1;mem:32"),
                                                           command: CommandInfo(value: "exec sleep 600"))], on: [offer.id], refuseSeconds: 3600)
            }
            #expect(tasks.count == 3)
            for id in tasks.values { _ = try await scheduler.update(id, .running, timeout: .seconds(30)) }

            let cut = network.hosts[0]
            let cutTask = try #require(tasks["node0"])
            try network.cut(cut)
            let unreachable = try await scheduler.update(cutTask, .unreachable, timeout: .seconds(20))
            #expect(unreachable.reason == .agentRemoved)
            for (host, id) in tasks where host != "node0" { #expect(await scheduler.states(id) == [.starting, .running], "\(host)") }

            try network.restore(cut)
            // Back within the agent's reconnection backoff (at most 30 s): the task still runs.
            let back = try await scheduler.update(cutTask, .running, occurrence: 2, timeout: .seconds(60))
            // Updates are delivered at least once: a RUNNING whose acknowledgement the cut caught
            // on its way is sent again when the agent is back, so RUNNING may come twice.
            let states = await scheduler.states(cutTask)
            let afterCut = states.drop { $0 != .unreachable }
            #expect(afterCut.first == .unreachable && afterCut.dropFirst().contains(.running)
                        && afterCut.dropFirst().allSatisfy { $0 == .running }, "\(states)")
            #expect(back.reason == .agentReregistered, "\(back)")

        } catch {
            Issue.record(error)
        }
        // The containers run under berth-supervise and outlive their agents: kill them first,
        // whatever happened above, with every link up.
        for host in network.hosts { try? network.restore(host) }
        for id in launched { try? await scheduler.calls.kill(id) }
        for id in launched {
            do {
                _ = try await scheduler.update(id, .killed, timeout: .seconds(30))
            } catch {
                Issue.record(error)
            }
        }
        for agent in agents { kill(agent.pid, SIGTERM) }
        for agent in agents { _ = try? agent.finish() }
        network.remove()
        try await coordinator.stop()
        for home in homes { try? FileManager.default.removeItem(atPath: home) }
    }
}
