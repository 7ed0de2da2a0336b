import BerthCore
import BerthProtocol
import Logging

extension Coordinator {
    /// True for a framework that was torn down or timed out. With a store, every framework the
    /// registry lacks is one: all that ever subscribed were stored. Without one, an unknown ID may
    /// be a framework from before a restart that has yet to re-subscribe.
    func wasRemoved(_ id: FrameworkID) -> Bool {
        removedFrameworks.contains(id) || (store != nil && frameworks[id] == nil)
    }

    /// A status update for a framework that is gone: nobody will ever acknowledge it, so the
    /// coordinator does, or the agent would resend it forever. A task still live on the agent
    /// outlived its framework (the agent missed SHUTDOWN_FRAMEWORK): the agent is told again.
    func acknowledgeForRemovedFramework(_ update: AgentCall.StatusUpdate, from agent: AgentID) {
        let status = update.status
        logger.notice("status update for a removed framework: acknowledged on its behalf",
                      metadata: ["framework": "\(update.frameworkID)", "task": "\(status.taskID)", "state": "\(status.state.rawValue)", "agent": "\(agent)"])
        if let uuid = status.uuid {
            agents[agent]?.channel?.send(.acknowledge(AgentEvent.Acknowledge(frameworkID: update.frameworkID, taskID: status.taskID, uuid: uuid)))
        }
        if !status.state.isTerminal {
            agents[agent]?.channel?.send(.shutdownFramework(update.frameworkID))
        }
    }
}
