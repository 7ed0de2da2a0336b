import Logging
import ServiceLifecycle

/// The agent as one long-running service: recovery of the previous run's checkpoints, then the
/// coordinator connection, the status update retrier and garbage collection side by side. On graceful shutdown the
/// loops stop; supervised containers go on (the next start adopts them), others are killed and
/// their last updates kept on disk.
public struct AgentService: Service {
    public let agent: Agent

    public init(agent: Agent) { self.agent = agent }

    public func run() async throws {
        await agent.recover()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await agent.connectionLoop() }
                group.addTask { await agent.retryLoop() }
                group.addTask { await agent.garbageCollectionLoop() }
                await group.waitForAll()
            }
        }
        await agent.stopAllTasks()
        await agent.checkpointsSettled()
        await agent.removeRuntimeDirectoryIfUnused()
    }
}
